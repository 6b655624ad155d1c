import type { AppendSql, Sql } from '@quarry/eventstore';
import type { QueryPriority } from '../domain/query.state';

const PRIORITIES: readonly QueryPriority[] = ['VERY_HIGH', 'HIGH', 'NORMAL', 'LOW', 'VERY_LOW'];

export interface WorkOwner {
  nodeId: string;
  incarnation: string;
}

export interface Orphan {
  queryHandle: string;
  nodeId: string;
  incarnation: string;
  /** event_writers.ended_reason: node-down, node-left or node-restarted. */
  endedReason: string;
}

/**
 * The unfinished work of queries (`query_queue`): a row waits with no owner, or runs owned by an
 * executor incarnation until its attempt ends. Every writer that also appends to the query's
 * stream locks the row first (claim, cancel, finish, takeover), so they never deadlock.
 */
export const queryWork = {
  async enqueue(tx: Sql, queryHandle: string, priority: QueryPriority): Promise<void> {
    await tx.query(
      `INSERT INTO query_queue (query_handle, priority) VALUES ($1, $2)
       ON CONFLICT (query_handle) DO UPDATE SET owner_incarnation = NULL, owner_node = NULL`,
      [queryHandle, PRIORITIES.indexOf(priority)],
    );
  },

  /**
   * For an append's conditions (one statement with the submit's events): no query has waited
   * longer than `graceMs`, so one launched where it was submitted takes no free slot from an older
   * one. A query queued this instant is on its way to a free slot (every executor with one claims
   * it on its NOTIFY); counting it would send every submit behind it through the queue too.
   */
  nothingWaiting(sql: AppendSql, graceMs: number): string {
    return `SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM query_queue WHERE owner_incarnation IS NULL AND queued_at < now() - ${sql.bind(graceMs)}::int * interval '1 millisecond')`;
  },

  /** For an append's writes: the new query's row, waiting, or owned by `owner` when launched with the submit. */
  inserted(sql: AppendSql, queryHandle: string, priority: QueryPriority, owner?: WorkOwner): string {
    return `INSERT INTO query_queue (query_handle, priority, owner_incarnation, owner_node)
      SELECT ${sql.bind(queryHandle)}::uuid, ${sql.bind(PRIORITIES.indexOf(priority))}::int, ${sql.bind(owner?.incarnation ?? null)}::uuid, ${sql.bind(owner?.nodeId ?? null)}::text
      WHERE ${sql.written}`;
  },

  /** For an append's condition: the row, locked, while `owner`'s attempt still has it (not taken over or canceled). */
  heldBy(sql: AppendSql, queryHandle: string, owner: WorkOwner): string {
    return `SELECT 1 FROM query_queue WHERE query_handle = ${sql.bind(queryHandle)}::uuid AND owner_incarnation = ${sql.bind(owner.incarnation)}::uuid FOR UPDATE`;
  },

  /** For an append's writes: the row goes with the attempt's end. */
  finished(sql: AppendSql, queryHandle: string): string {
    return `DELETE FROM query_queue WHERE query_handle = ${sql.bind(queryHandle)}::uuid AND ${sql.written}`;
  },

  /** Whether any query waits for a slot: one cheap read before a claim's transaction. */
  async anyWaiting(sql: Sql): Promise<boolean> {
    const { rows } = await sql.query<{ waiting: boolean }>('SELECT EXISTS (SELECT 1 FROM query_queue WHERE owner_incarnation IS NULL) AS waiting');
    return rows[0].waiting;
  },

  /** The next waiting queries in priority and age order, owned by `owner` from now on. */
  async claim(tx: Sql, slots: number, owner: WorkOwner): Promise<string[]> {
    const { rows } = await tx.query<{ query_handle: string }>(
      `UPDATE query_queue SET owner_incarnation = $2, owner_node = $3 WHERE query_handle IN
         (SELECT query_handle FROM query_queue WHERE owner_incarnation IS NULL ORDER BY priority, seq FOR UPDATE SKIP LOCKED LIMIT $1)
       RETURNING query_handle`,
      [slots, owner.incarnation, owner.nodeId],
    );
    return rows.map((r) => r.query_handle);
  },

  /** The attempt of `owner` ended with nothing to record: the row goes, unless it is no longer that owner's. */
  async giveBack(sql: Sql, queryHandle: string, owner: WorkOwner): Promise<void> {
    await sql.query('DELETE FROM query_queue WHERE query_handle = $1 AND owner_incarnation = $2', [queryHandle, owner.incarnation]);
  },

  /** Canceled: the row goes, whoever had it. */
  async remove(tx: Sql, queryHandle: string): Promise<void> {
    await tx.query('DELETE FROM query_queue WHERE query_handle = $1', [queryHandle]);
  },

  /** Locks an orphan's row if `incarnation` still owns it; false when someone else got there first. */
  async lockOrphan(tx: Sql, queryHandle: string, incarnation: string): Promise<boolean> {
    const { rows } = await tx.query('SELECT 1 FROM query_queue WHERE query_handle = $1 AND owner_incarnation = $2 FOR UPDATE SKIP LOCKED', [queryHandle, incarnation]);
    return rows.length === 1;
  },

  /** 1-based position among the waiting queries, or undefined when it does not wait. */
  async position(sql: Sql, queryHandle: string): Promise<number | undefined> {
    const { rows } = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM query_queue q, query_queue me
       WHERE me.query_handle = $1 AND me.owner_incarnation IS NULL AND q.owner_incarnation IS NULL AND (q.priority, q.seq) <= (me.priority, me.seq)`,
      [queryHandle],
    );
    return rows[0].n || undefined;
  },

  /** Rows owned by incarnations that have ended, from the write side alone (no projection, no Kafka). */
  async orphans(sql: Sql, limit: number, incarnation?: string): Promise<Orphan[]> {
    const { rows } = await sql.query<{ query_handle: string; owner_node: string; owner_incarnation: string; ended_reason: string }>(
      `SELECT q.query_handle, q.owner_node, q.owner_incarnation, w.ended_reason
       FROM query_queue q JOIN event_writers w ON w.incarnation = q.owner_incarnation
       WHERE w.ended_at IS NOT NULL AND ($2::uuid IS NULL OR q.owner_incarnation = $2::uuid)
       ORDER BY q.priority, q.seq LIMIT $1`,
      [limit, incarnation ?? null],
    );
    return rows.map((r) => ({ queryHandle: r.query_handle, nodeId: r.owner_node, incarnation: r.owner_incarnation, endedReason: r.ended_reason }));
  },

  /** The orphan goes back to waiting, keeping its place. */
  async requeue(tx: Sql, queryHandle: string): Promise<void> {
    await tx.query('UPDATE query_queue SET owner_incarnation = NULL, owner_node = NULL WHERE query_handle = $1', [queryHandle]);
  },
};
