import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The writer fence without a row lock (ADR 11). Appends share-locked their writer's row
 * (FOR KEY SHARE): every append of a node locks the same row, so concurrent appends turned it
 * into a multixact rewritten by each, and serialized on it. Now an append takes a shared
 * transaction-level advisory lock on its writer's key and then reads `event_writers` with a
 * snapshot taken after the lock is granted (a VOLATILE plpgsql function: each of its queries
 * takes a fresh snapshot). Ending a writer takes the same key exclusively before it writes
 * `ended_at`: it waits for the appends in flight, and an append queued behind it sees it ended.
 * Nothing is written to any row by an append's fence, and nothing goes to the WAL for it.
 */
export class WriterFence1764000000003 implements MigrationInterface {
  name = 'WriterFence1764000000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION quarry_writer_key(incarnation uuid) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
      AS $$ SELECT hashtextextended(incarnation::text, 7041998003) $$`);
    await q.query(`
      CREATE FUNCTION quarry_writer_alive(writer uuid) RETURNS boolean LANGUAGE plpgsql VOLATILE
      AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock_shared(quarry_writer_key(writer));
        -- A fresh snapshot, taken after the lock: an end that committed while this waited is seen.
        RETURN NOT EXISTS (SELECT 1 FROM event_writers w WHERE w.incarnation = writer AND w.ended_at IS NOT NULL);
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION quarry_writer_alive(uuid)');
    await q.query('DROP FUNCTION quarry_writer_key(uuid)');
  }
}
