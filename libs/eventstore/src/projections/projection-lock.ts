import { sqlText } from '../db/literals';
import type { Sql } from '../db/sql';

/**
 * Consumers hold this lock shared for each batch, a rebuild holds it exclusively, so a rebuild
 * never interleaves with (or deadlocks against) live batches of the same projection.
 */
export async function lockProjection(tx: Sql, projection: string, mode: 'shared' | 'exclusive'): Promise<void> {
  await tx.query(projectionLock(projection, mode));
}

/**
 * The lock's statement, with no parameters, so that a batch can send it with its BEGIN
 * (inTransaction's `first`): the name is a literal, quoted.
 */
export function projectionLock(projection: string, mode: 'shared' | 'exclusive'): string {
  const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  return `SELECT ${fn}(hashtext(${projectionLockKey(projection)}))`;
}

/** The lock's key, as a quoted literal: what hashtext() takes, in the prepared form too. */
export function projectionLockKey(projection: string): string {
  return sqlText(`projection:${projection}`);
}

/** The shared lock prepared under `name` (PREPARE), to run as `EXECUTE name(projectionLockKey(...))`. */
export function sharedLockPrepare(name: string): string {
  return `PREPARE ${name} (text) AS SELECT pg_advisory_xact_lock_shared(hashtext($1))`;
}
