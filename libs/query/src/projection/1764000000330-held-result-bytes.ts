import type { MigrationInterface, QueryRunner } from 'typeorm';

/** How big each held in-memory result is, so the cluster view can say what each node holds. */
export class HeldResultBytes1764000000330 implements MigrationInterface {
  name = 'HeldResultBytes1764000000330';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE queries ADD COLUMN result_holder_bytes bigint');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE queries DROP COLUMN result_holder_bytes');
  }
}
