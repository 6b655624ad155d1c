import type { Sql } from '../db/sql';

/**
 * Consumers hold this lock shared for each batch, a rebuild holds it exclusively, so a rebuild
 * never interleaves with (or deadlocks against) live batches of the same projection.
 */
export async function lockProjection(tx: Sql, projection: string, mode: 'shared' | 'exclusive'): Promise<void> {
  const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await tx.query(`SELECT ${fn}(hashtext($1))`, [`projection:${projection}`]);
}
