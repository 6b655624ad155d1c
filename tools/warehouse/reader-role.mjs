// The pg driver's login role on a warehouse database: read access only (reader-role.sql).
import { readFileSync } from 'node:fs';
import { withClient } from '../stack/postgres/databases.mjs';

const READER_ROLE_SQL = readFileSync(new URL('./reader-role.sql', import.meta.url), 'utf8');

/** Creates `role` if missing and lets it read the tables of the database `url` names (as its owner or a superuser). */
export async function grantReader(url, { role, password = '' }) {
  await withClient(url, async (db) => {
    await db.query('BEGIN');
    await db.query(`SELECT set_config('quarry.reader', $1, true), set_config('quarry.reader_password', $2, true)`, [role, password]);
    await db.query(READER_ROLE_SQL);
    await db.query('COMMIT');
  });
}

/** Drops a reader role whose databases are gone (roles are the whole server's, not a database's). */
export async function dropRole(adminUrl, role) {
  await withClient(adminUrl, (client) => client.query(`DROP ROLE IF EXISTS ${client.escapeIdentifier(role)}`));
}
