import { isConnectionLost, isDatabaseUnavailable } from '@quarry/platform';
import type { Pool, PoolClient, QueryResultRow } from 'pg';

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
 * Runs `work` in one transaction on one connection; rolls back on any error. A connection that
 * failed goes back to the pool with its error, so the pool destroys it instead of handing it out
 * again. One found dead at BEGIN is replaced: nothing ran on it yet. `first`, a statement without
 * parameters (a lock), is sent with the BEGIN: one round trip for both.
 */
export async function inTransaction<T>(pool: Pool, work: (tx: PoolClient) => Promise<T>, first?: string): Promise<T> {
  const client = await begin(pool, first);
  let result: T;
  try {
    result = await work(client);
    await client.query('COMMIT');
  } catch (error) {
    const rolledBack = await client.query('ROLLBACK').then(
      () => true,
      () => false,
    );
    client.release(rolledBack && !isDatabaseUnavailable(error) ? undefined : destroying(error));
    throw error;
  }
  client.release();
  return result;
}

async function begin(pool: Pool, first?: string): Promise<PoolClient> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query(first ? `BEGIN; ${first}` : 'BEGIN');
      return client;
    } catch (error) {
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
