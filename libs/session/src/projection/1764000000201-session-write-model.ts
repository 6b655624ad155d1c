import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * State the session commands keep beside their events, in the same transactions:
 * - `open_sessions`: one row per open session, so the per-user limit holds across nodes without
 *   waiting for a projection, and idle expiry knows each session's last access;
 * - `session_resource_blobs`: the bytes of added resources, once per content hash, so every node
 *   has them without a shared filesystem.
 */
export class SessionWriteModel1764000000201 implements MigrationInterface {
  name = 'SessionWriteModel1764000000201';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE open_sessions (
        public_id   uuid PRIMARY KEY,
        user_name   text NOT NULL,
        opened_at   timestamptz NOT NULL DEFAULT now(),
        last_access timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX open_sessions_user ON open_sessions (user_name)');
    await q.query('CREATE INDEX open_sessions_last_access ON open_sessions (last_access)');
    await q.query(`
      CREATE TABLE session_resource_blobs (
        sha256     text PRIMARY KEY,
        content    bytea NOT NULL,
        size_bytes bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE session_resource_blobs');
    await q.query('DROP TABLE open_sessions');
  }
}
