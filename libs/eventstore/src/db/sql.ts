import { isConnectionLost, isDatabaseUnavailable } from '@quarry/platform';
import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';

/** Anything that runs a statement: the pool, or a client inside a transaction. */
export interface Sql {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
  query<R extends QueryResultRow = QueryResultRow>(config: { name?: string; text: string; values?: unknown[] }): Promise<{ rows: R[]; rowCount: number | null }>;
}

/**
 * Tries on pooled connections the server may have ended unseen: a failover ends all of them at
 * once, and the pool learns of each only when its client reads the news.
 */
const STALE_CONNECTION_TRIES = 3;

/** What release() takes to destroy the client: the error when there is one. */
const destroying = (error: unknown): Error | true => (error instanceof Error ? error : true);

/**
 * Errors saying a connection's prepared statements are not what this process thinks (26000: one
 * thought prepared is not, as when its PREPARE failed; 42P05: one thought new exists). Such a
 * connection would fail every batch it serves: it is not kept.
 */
const PREPARED_STATEMENTS_UNKNOWN = new Set(['26000', '42P05']);

/** What release() takes after a rollback: nothing (the connection is kept) unless the rollback failed, the database is going away, or its prepared statements are unknown. */
const afterRollback = (rolledBack: boolean, error: unknown): Error | true | undefined =>
  rolledBack && !isDatabaseUnavailable(error) && !PREPARED_STATEMENTS_UNKNOWN.has((error as { code?: string }).code ?? '') ? undefined : destroying(error);

/** Rolls back after `error` and releases the client (see afterRollback); says whether the rollback went through. */
async function rollBackAndRelease(client: PoolClient, error: unknown): Promise<boolean> {
  const rolledBack = await client.query('ROLLBACK').then(
    () => true,
    () => false,
  );
  client.release(afterRollback(rolledBack, error));
  return rolledBack;
}

/**
 * Statements that ride the transaction's own round trips, each sent without parameters (values
 * written in as literals, see literals.ts) in one simple query with its BEGIN or COMMIT.
 */
export interface TransactionEnds<T> {
  /**
   * Sent with the BEGIN (a lock, a read that locks); their results are handed to `work`, in order.
   * Given the connection when the text depends on what it has run before (its prepared statements).
   */
  first?: string | ((connection: PoolClient) => string);
  /** Given what `work` returned, the statement to send with the COMMIT (undefined: none). */
  last?: (result: T) => string | undefined;
}

/**
 * Runs `work` in one transaction on one connection; rolls back on any error. A connection that
 * failed goes back to the pool with its error, so the pool destroys it instead of handing it out
 * again. One found dead at BEGIN is replaced: nothing ran on it yet. `first` and `last` share
 * the BEGIN's and the COMMIT's round trips: a statement of `last` that
 * fails keeps its COMMIT from running (the rest of a simple query is skipped), and rolls back.
 */
export async function inTransaction<T>(
  pool: Pool,
  work: (tx: PoolClient, opened: QueryResult[]) => Promise<T>,
  { first, last }: TransactionEnds<T> = {},
): Promise<T> {
  const { client, opened } = await begin(pool, first);
  let result: T;
  try {
    result = await work(client, opened);
    const closing = last?.(result);
    await client.query(closing ? `${closing}; COMMIT` : 'COMMIT');
  } catch (error) {
    await rollBackAndRelease(client, error);
    throw error;
  }
  client.release();
  return result;
}

/**
 * A whole transaction as one simple query, `BEGIN; <built>; COMMIT`, built for the connection it
 * goes on (its prepared statements). 'refused' when a statement of it raised SQLSTATE `refusal`,
 * or when the connection was lost on the way (whether it committed is then unknown: the caller
 * must follow with a way that finds out, as a projection batch reading its positions does); the
 * transaction rolled back. Any other error rolls back and is thrown, as inTransaction's.
 */
export async function inOneRoundTrip(pool: Pool, build: (connection: PoolClient) => Promise<string>, refusal: string): Promise<'committed' | 'refused'> {
  const client = await pool.connect();
  let text: string;
  try {
    text = await build(client);
  } catch (error) {
    // Nothing was sent on it.
    client.release();
    throw error;
  }
  try {
    await client.query(`BEGIN; ${text}; COMMIT`);
  } catch (error) {
    if (isConnectionLost(error)) {
      client.release(destroying(error));
      return 'refused';
    }
    const rolledBack = await rollBackAndRelease(client, error);
    if (rolledBack && (error as { code?: string }).code === refusal) return 'refused';
    throw error;
  }
  client.release();
  return 'committed';
}

async function begin(pool: Pool, first?: TransactionEnds<unknown>['first']): Promise<{ client: PoolClient; opened: QueryResult[] }> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      if (!first) {
        await client.query('BEGIN');
        return { client, opened: [] };
      }
      // Several statements in one simple query answer with one result each, BEGIN's first.
      const results = (await client.query(`BEGIN; ${typeof first === 'function' ? first(client) : first}`)) as unknown as QueryResult[];
      return { client, opened: results.slice(1) };
    } catch (error) {
      if (!isConnectionLost(error) && first) {
        // A statement of `first` failed (a deadlock, a timeout) on a live connection: roll back and keep it.
        await rollBackAndRelease(client, error);
        throw error;
      }
      client.release(destroying(error));
      if (attempt >= STALE_CONNECTION_TRIES || !isConnectionLost(error)) throw error;
    }
  }
}

/**
 * A read, asked again on another connection when its connection turns out lost. Reads only: a
 * write may have been done before its connection went.
 */
export async function readAgainIfConnectionLost<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (attempt >= STALE_CONNECTION_TRIES || !isConnectionLost(error)) throw error;
    }
  }
}
