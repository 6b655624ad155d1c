import type { QuarryEvent } from '@quarry/contracts';
import { namedStatement, type Projection, type Sql } from '@quarry/eventstore';

/**
 * The `sessions` read model: one row per session, and its resources. Its statements are named
 * (namedStatement): a batch runs one per event, and unnamed each was planned again every time
 * (the JarAdded statement cost PostgreSQL as much to plan as to run, ADR 11).
 */
export const sessionsProjection: Projection = {
  name: 'sessions',
  families: ['session'],
  tables: ['session_resources', 'sessions'],
  // Its statements' answers are never read: a batch's go with its COMMIT.
  writesOnly: true,
  async apply(tx: Sql, event: QuarryEvent) {
    switch (event.type) {
      case 'SessionOpened': {
        const p = event.payload;
        await tx.query({
          ...namedStatement(`INSERT INTO sessions (public_id, secret_sha256, user_name, database_name, params, state, opened_at, version)
           VALUES ($1, $2, $3, $4, $5, 'OPEN', $6, $7)`),
          values: [p.publicId, p.secretIdSha256, p.userName, p.database, JSON.stringify(p.params), event.occurredAt, event.streamVersion],
        });
        return;
      }
      case 'SessionParamSet':
        await update(tx, event, `params = params || jsonb_build_object($3::text, $4::text)`, [event.payload.key, event.payload.value]);
        return;
      case 'DatabaseChanged':
        await update(tx, event, 'database_name = $3', [event.payload.database]);
        return;
      case 'JarAdded': {
        const p = event.payload;
        // One statement (a round trip per event is most of a batch's time): the same path's older
        // row out, the new one in (their versions differ, so the two never meet), the session moved.
        await tx.query({
          ...namedStatement(`WITH replaced AS (DELETE FROM session_resources WHERE public_id = $1 AND resource_type = $3 AND path = $4),
                added AS (INSERT INTO session_resources (public_id, version, resource_type, path, sha256, size_bytes, added_at)
                          VALUES ($1, $2, $3, $4, $5, $6, $7))
           UPDATE sessions SET version = $2 WHERE public_id = $1`),
          values: [p.publicId, event.streamVersion, p.resourceType, p.path, p.sha256, p.sizeBytes, event.occurredAt],
        });
        return;
      }
      case 'ResourceDeleted': {
        const p = event.payload;
        await tx.query({
          ...namedStatement(`WITH removed AS (DELETE FROM session_resources WHERE public_id = $1 AND resource_type = $3 AND path = $4)
           UPDATE sessions SET version = $2 WHERE public_id = $1`),
          values: [p.publicId, event.streamVersion, p.resourceType, p.path],
        });
        return;
      }
      case 'SessionClosed':
        await update(tx, event, `state = 'CLOSED', closed_at = $3`, [event.occurredAt]);
        return;
      case 'SessionExpired':
        await update(tx, event, `state = 'EXPIRED', closed_at = $3`, [event.occurredAt]);
        return;
    }
  },
};

/** Updates the session's row and records the version it now reflects. */
function update(tx: Sql, event: QuarryEvent & { payload: { publicId: string } }, set = '', values: unknown[] = []) {
  const assignments = set ? `${set}, version = $2` : 'version = $2';
  return tx.query({ ...namedStatement(`UPDATE sessions SET ${assignments} WHERE public_id = $1`), values: [event.payload.publicId, event.streamVersion, ...values] });
}
