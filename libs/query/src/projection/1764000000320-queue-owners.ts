import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `query_queue` holds every unfinished attempt, not only the waiting ones: a claimed row stays,
 * owned by the executor's incarnation, until the attempt finishes. A row whose owner has ended
 * (declared down, left, restarted) is an orphan, found in PostgreSQL alone, and goes back to the
 * queue with its place (priority, age) kept.
 */
export class QueueOwners1764000000320 implements MigrationInterface {
  name = 'QueueOwners1764000000320';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE query_queue ADD COLUMN owner_incarnation uuid, ADD COLUMN owner_node text');
    await q.query('DROP INDEX query_queue_order');
    await q.query('CREATE INDEX query_queue_waiting ON query_queue (priority, seq) WHERE owner_incarnation IS NULL');
    await q.query('CREATE INDEX query_queue_owner ON query_queue (owner_incarnation) WHERE owner_incarnation IS NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX query_queue_owner');
    await q.query('DROP INDEX query_queue_waiting');
    await q.query('DELETE FROM query_queue WHERE owner_incarnation IS NOT NULL');
    await q.query('ALTER TABLE query_queue DROP COLUMN owner_incarnation, DROP COLUMN owner_node');
    await q.query('CREATE INDEX query_queue_order ON query_queue (priority, seq)');
  }
}
