import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `node_heartbeats`: when each node incarnation last said it is alive, on the database clock.
 * Operational state, overwritten in place: beats as events would flood the store; only the
 * conclusion that a node is down becomes an event (NodeDown).
 */
export class NodeHeartbeats1764000000110 implements MigrationInterface {
  name = 'NodeHeartbeats1764000000110';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE node_heartbeats (
        incarnation uuid PRIMARY KEY,
        node_id     text NOT NULL,
        beat_at     timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE node_heartbeats');
  }
}
