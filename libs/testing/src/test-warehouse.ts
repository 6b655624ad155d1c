import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './repo-paths';
import { createTestDatabase, withClient, type TestDatabase } from './test-database';
import { testEnv } from './test-env';

/**
 * A warehouse for the pg driver: a test database (its `url` and `pool` stay the test's own,
 * privileged) that nodes reach at `readerUrl`, as a non-superuser login role of its own with
 * only CONNECT, USAGE and SELECT (the same tools/warehouse/reader-role.sql `npm start` uses),
 * also on tables the test creates later. `drop()` drops the role too, so the server is left clean.
 */
export interface TestWarehouse extends TestDatabase {
  readerUrl: string;
  readerRole: string;
}

export async function createTestWarehouse(): Promise<TestWarehouse> {
  const db = await createTestDatabase();
  const readerRole = `${db.name}_reader`;
  await withClient(db.url, async (client) => {
    await client.query('BEGIN');
    await client.query(`SELECT set_config('quarry.reader', $1, true), set_config('quarry.reader_password', '', true)`, [readerRole]);
    await client.query(readFileSync(join(REPO_ROOT, 'tools/warehouse/reader-role.sql'), 'utf8'));
    await client.query('COMMIT');
  });
  const readerUrl = Object.assign(new URL(db.url), { username: readerRole, password: '' }).toString();
  return {
    ...db,
    readerUrl,
    readerRole,
    async drop() {
      await db.drop();
      await withClient(testEnv().adminUrl, (client) => client.query(`DROP ROLE IF EXISTS ${client.escapeIdentifier(readerRole)}`));
    },
  };
}
