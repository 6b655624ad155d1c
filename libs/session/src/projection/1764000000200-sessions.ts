import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The `sessions` projection and the resources added to each session. */
export class Sessions1764000000200 implements MigrationInterface {
  name = 'Sessions1764000000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sessions (
        public_id      uuid PRIMARY KEY,
        secret_sha256  text NOT NULL,
        user_name      text NOT NULL,
        database_name  text NOT NULL,
        params         jsonb NOT NULL,
        state          text NOT NULL CHECK (state IN ('OPEN', 'CLOSED', 'EXPIRED')),
        opened_at      timestamptz NOT NULL,
        closed_at      timestamptz,
        version        integer NOT NULL
      )`);
    await q.query('CREATE INDEX sessions_user_open ON sessions (user_name) WHERE state = \'OPEN\'');
    await q.query(`
      CREATE TABLE session_resources (
        public_id     uuid NOT NULL REFERENCES sessions (public_id) ON DELETE CASCADE,
        version       integer NOT NULL,
        resource_type text NOT NULL,
        path          text NOT NULL,
        sha256        text NOT NULL,
        size_bytes    bigint NOT NULL,
        added_at      timestamptz NOT NULL,
        PRIMARY KEY (public_id, version)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE session_resources');
    await q.query('DROP TABLE sessions');
  }
}
