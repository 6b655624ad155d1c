import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { testEnv } from './test-env';

export interface TestDatabase {
  name: string;
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

const admin = <T>(work: (client: Client) => Promise<T>): Promise<T> => withClient(testEnv().adminUrl, work);

/** One client on `url` for `work`, always closed. */
export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabaseOptions {
  /** Brings the schema in (e.g. runMigrations with the migrations under test); none when absent. */
  migrate?: (url: string) => Promise<unknown>;
}

/** A database of the test's own, dropped afterwards: tests never share rows. */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const name = `quarry_t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(testEnv().adminUrl);
  url.pathname = `/${name}`;
  await options.migrate?.(url.toString());
  const pool = new Pool({ connectionString: url.toString(), max: 8 });
  // Tests that terminate a database's backends end the test's own idle connections too: the pool
  // drops them and opens new ones; unheard, the 'error' would fail whichever test file runs then.
  pool.on('error', () => undefined);
  return {
    name,
    url: url.toString(),
    pool,
    async drop() {
      await pool.end();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

