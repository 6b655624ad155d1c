import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * In-memory results live on the node that ran the query, not in PostgreSQL: `query_results` goes,
 * and `queries` records which node incarnation holds a result, so a sweep can say it is lost
 * when that incarnation ends.
 */
export class HeldResults1764000000310 implements MigrationInterface {
  name = 'HeldResults1764000000310';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE query_results');
    await q.query('ALTER TABLE queries ADD COLUMN result_holder_node text, ADD COLUMN result_holder_incarnation uuid');
    await q.query('CREATE INDEX queries_result_holder ON queries (result_holder_incarnation) WHERE result_holder_incarnation IS NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX queries_result_holder');
    await q.query('ALTER TABLE queries DROP COLUMN result_holder_node, DROP COLUMN result_holder_incarnation');
    await q.query(`
      CREATE TABLE query_results (
        query_handle uuid PRIMARY KEY,
        columns      jsonb NOT NULL,
        rows         jsonb NOT NULL,
        row_count    integer NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now()
      )`);
  }
}
