import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a projection batch sent in one round trip expects to find (ADR 11, "Events, sixth pass"):
 * the partition's stored Kafka position at or below the batch's first offset, and each delivered
 * stream's applied version just below its first delivered event. It locks what the batch's
 * opening statements lock, in the same order (the stored position FOR UPDATE, then the streams'
 * positions, created at 0 when missing, sorted), and raises SQLSTATE QY001 when anything differs,
 * so that the batch rolls back and is applied the careful way, reading first.
 */
export class ProjectionBatchExpect1764000000400 implements MigrationInterface {
  name = 'ProjectionBatchExpect1764000000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION quarry_projection_batch_expect(in_projection text, in_topic text, in_partition int, in_first_offset bigint, in_stream_ids text[], in_versions int[])
      RETURNS void LANGUAGE plpgsql VOLATILE
      AS $$
      DECLARE
        stored bigint;
        differing int;
      BEGIN
        SELECT o.next_offset INTO stored FROM projection_offsets o
          WHERE o.projection = in_projection AND o.topic = in_topic AND o.kafka_partition = in_partition
          FOR UPDATE;
        IF stored > in_first_offset THEN
          RAISE EXCEPTION 'projection % is at offset % of %/%, past the batch''s first (%)', in_projection, stored, in_topic, in_partition, in_first_offset
            USING ERRCODE = 'QY001';
        END IF;
        WITH locked AS (
          INSERT INTO projection_streams AS p (projection, stream_id, version)
          SELECT in_projection, s.stream_id, 0 FROM unnest(in_stream_ids) AS s(stream_id) ORDER BY s.stream_id
          ON CONFLICT (projection, stream_id) DO UPDATE SET version = p.version
          RETURNING p.stream_id, p.version
        )
        SELECT count(*) INTO differing FROM locked JOIN unnest(in_stream_ids, in_versions) AS e(stream_id, version) ON e.stream_id = locked.stream_id
          WHERE locked.version <> e.version;
        IF differing > 0 THEN
          RAISE EXCEPTION 'projection %: % stream(s) not at the version the batch expects', in_projection, differing USING ERRCODE = 'QY001';
        END IF;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION quarry_projection_batch_expect(text, text, int, bigint, text[], int[])');
  }
}
