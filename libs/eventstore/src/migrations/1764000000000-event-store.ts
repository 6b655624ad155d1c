import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The source of truth: `events` (append-only, one row per event), `streams` (the version each
 * stream is at; its row lock serialises appends to one stream), and the transactional `outbox`
 * the relay drains into Kafka.
 */
export class EventStore1764000000000 implements MigrationInterface {
  name = 'EventStore1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE streams (
        stream_id  text PRIMARY KEY,
        version    integer NOT NULL CHECK (version >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE events (
        global_position  bigserial PRIMARY KEY,
        event_id         uuid NOT NULL UNIQUE,
        stream_id        text NOT NULL,
        stream_version   integer NOT NULL CHECK (stream_version > 0),
        type             text NOT NULL,
        schema_version   integer NOT NULL,
        payload          jsonb NOT NULL,
        node_id          text NOT NULL,
        node_incarnation text NOT NULL,
        occurred_at      timestamptz NOT NULL,
        CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
      )`);
    await q.query(`
      CREATE TABLE outbox (
        id         bigserial PRIMARY KEY,
        topic      text NOT NULL,
        message_key text NOT NULL,
        envelope   jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE outbox');
    await q.query('DROP TABLE events');
    await q.query('DROP TABLE streams');
  }
}
