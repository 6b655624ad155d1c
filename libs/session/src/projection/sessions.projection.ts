import type { QuarryEvent } from '@quarry/contracts';
import type { Projection, Sql } from '@quarry/eventstore';

export const sessionsProjection: Projection = {
  name: 'sessions',
  families: ['session'],
  tables: ['session_resources', 'sessions'],
  async apply(tx: Sql, event: QuarryEvent) {
    switch (event.type) {
      case 'SessionOpened':
        await tx.query(
          `INSERT INTO sessions (public_id, secret_sha256, user_name, database_name, params, state, opened_at, version)
           VALUES ($1, $2, $3, $4, $5, 'OPEN', $6, $7)`,
          [
            event.payload.publicId,
            event.payload.secretIdSha256,
            event.payload.userName,
            event.payload.database,
            JSON.stringify(event.payload.params),
            event.occurredAt,
            event.streamVersion,
          ],
        );
        return;
      case 'JarAdded':
        await tx.query(
          `INSERT INTO session_resources (public_id, version, resource_type, path, sha256, size_bytes, added_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [
            event.payload.publicId,
            event.streamVersion,
            event.payload.resourceType,
            event.payload.path,
            event.payload.sha256,
            event.payload.sizeBytes,
            event.occurredAt,
          ],
        );
        await touch(tx, event.payload.publicId, event.streamVersion);
        return;
      case 'SessionClosed':
        await tx.query(`UPDATE sessions SET state = 'CLOSED', closed_at = $2, version = $3 WHERE public_id = $1`, [
          event.payload.publicId,
          event.occurredAt,
          event.streamVersion,
        ]);
        return;
    }
  },
};

function touch(tx: Sql, publicId: string, version: number) {
  return tx.query('UPDATE sessions SET version = $2 WHERE public_id = $1', [publicId, version]);
}
