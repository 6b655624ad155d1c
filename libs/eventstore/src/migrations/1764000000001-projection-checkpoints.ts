import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What each projection has applied. `projection_offsets` is the Kafka position a projection
 * resumes from; `projection_streams` is the last version applied per stream, which makes a
 * redelivered or republished event a no-op and reveals a gap to fill from the store.
 */
export class ProjectionCheckpoints1764000000001 implements MigrationInterface {
  name = 'ProjectionCheckpoints1764000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE projection_offsets (
        projection      text NOT NULL,
        topic           text NOT NULL,
        kafka_partition integer NOT NULL,
        next_offset     bigint NOT NULL,
        updated_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (projection, topic, kafka_partition)
      )`);
    await q.query(`
      CREATE TABLE projection_streams (
        projection text NOT NULL,
        stream_id  text NOT NULL,
        version    integer NOT NULL,
        PRIMARY KEY (projection, stream_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE projection_streams');
    await q.query('DROP TABLE projection_offsets');
  }
}
