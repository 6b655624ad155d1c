import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `event_writers`: the node incarnations that append, and whether each has ended. An ended
 * writer's appends are refused (fencing by incarnation, as attempts fence executors): a node the
 * cluster declared down, or that left, can never write again, however long it was paused.
 */
export class EventWriters1764000000002 implements MigrationInterface {
  name = 'EventWriters1764000000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE event_writers (
        incarnation  uuid PRIMARY KEY,
        node_id      text NOT NULL,
        started_at   timestamptz NOT NULL DEFAULT now(),
        ended_at     timestamptz,
        ended_reason text
      )`);
    await q.query('CREATE INDEX event_writers_live ON event_writers (node_id) WHERE ended_at IS NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE event_writers');
  }
}
