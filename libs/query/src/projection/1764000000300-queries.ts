import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * - `queries`: the projection that lists and filters queries (GET /queryapi/queries);
 * - `query_queue`: queries waiting for an executor, claimed with SKIP LOCKED, written and
 *   deleted in the same transactions as QuerySubmitted / QueryLaunched / QueryCanceled;
 * - `query_requests`: a client's request id to its query, so a retried submit returns the first handle;
 * - `query_results`: result rows kept in PostgreSQL, readable from every node.
 */
export class Queries1764000000300 implements MigrationInterface {
  name = 'Queries1764000000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE queries (
        query_handle      uuid PRIMARY KEY,
        session_public_id uuid NOT NULL,
        user_name         text NOT NULL,
        query_name        text NOT NULL,
        driver            text NOT NULL,
        status            text NOT NULL,
        executor_node_id  text,
        submitted_at      timestamptz NOT NULL,
        finished_at       timestamptz,
        version           integer NOT NULL
      )`);
    await q.query('CREATE INDEX queries_user_submitted ON queries (user_name, submitted_at)');
    await q.query('CREATE INDEX queries_finished ON queries (finished_at) WHERE status IN (\'SUCCESSFUL\', \'FAILED\', \'CANCELED\')');
    await q.query(`
      CREATE TABLE query_queue (
        query_handle uuid PRIMARY KEY,
        seq          bigserial NOT NULL,
        priority     integer NOT NULL,
        queued_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX query_queue_order ON query_queue (priority, seq)');
    await q.query(`
      CREATE TABLE query_requests (
        user_name    text NOT NULL,
        request_id   text NOT NULL,
        query_handle uuid NOT NULL,
        PRIMARY KEY (user_name, request_id)
      )`);
    await q.query(`
      CREATE TABLE query_results (
        query_handle uuid PRIMARY KEY,
        columns      jsonb NOT NULL,
        rows         jsonb NOT NULL,
        row_count    integer NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['query_results', 'query_requests', 'query_queue', 'queries']) await q.query(`DROP TABLE ${table}`);
  }
}
