import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The `nodes` projection: every node incarnation seen, and whether it is up, gone or down. */
export class Nodes1764000000100 implements MigrationInterface {
  name = 'Nodes1764000000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE nodes (
        node_id     text NOT NULL,
        incarnation uuid NOT NULL,
        http_url    text NOT NULL,
        services    text[] NOT NULL,
        state       text NOT NULL CHECK (state IN ('UP', 'LEFT', 'DOWN')),
        joined_at   timestamptz NOT NULL,
        ended_at    timestamptz,
        PRIMARY KEY (node_id, incarnation)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE nodes');
  }
}
