import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each heartbeat row says where its node answers, so the failure detector can ask a silent node
 * directly before declaring it down, without waiting for the `nodes` projection (Kafka).
 */
export class HeartbeatUrl1764000000120 implements MigrationInterface {
  name = 'HeartbeatUrl1764000000120';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE node_heartbeats ADD COLUMN http_url text');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE node_heartbeats DROP COLUMN http_url');
  }
}
