// Connection probes and database create/drop on a PostgreSQL server, through the `pg` package.
import pg from 'pg';

const databaseNamePattern = /^[a-z_][a-z0-9_]*$/;

/** Opens a client on `url`, runs `work(client)` and always closes the client. */
export async function withClient(url, work, { connectTimeoutMs = 5000 } = {}) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
  client.on('error', () => {}); // a server shutting down mid-session must not crash the caller
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Resolves to undefined when `url` accepts a connection and runs `select 1`, else to the error. */
export async function postgresProblem(url, connectTimeoutMs = 3000) {
  try {
    await withClient(url, (client) => client.query('select 1'), { connectTimeoutMs });
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Creates database `name` unless it exists. Returns true when it was created. */
export async function createDatabase(adminUrl, name) {
  const identifier = quoteDatabaseName(name);
  return withClient(adminUrl, async (client) => {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount > 0) return false;
    try {
      await client.query(`create database ${identifier}`);
      return true;
    } catch (error) {
      if (error.code === '42P04') return false; // duplicate_database: created concurrently
      throw error;
    }
  });
}

/** Drops database `name` if it exists, disconnecting its sessions first. Returns true when it existed. */
export async function dropDatabase(adminUrl, name) {
  const identifier = quoteDatabaseName(name);
  return withClient(adminUrl, async (client) => {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount === 0) return false;
    // Terminating explicitly keeps this working before PostgreSQL 13, where WITH (FORCE) does not exist.
    await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [
      name,
    ]);
    const { rows } = await client.query('show server_version_num');
    const force = Number(rows[0].server_version_num) >= 130000 ? ' with (force)' : '';
    await client.query(`drop database if exists ${identifier}${force}`);
    return true;
  });
}

/** Database names are interpolated into SQL, so only plain lower-case identifiers are accepted. */
function quoteDatabaseName(name) {
  if (typeof name !== 'string' || !databaseNamePattern.test(name) || name.length > 63) {
    throw new Error(`Invalid database name ${JSON.stringify(name)}: use lower-case letters, digits and _ (max 63 chars)`);
  }
  return `"${name}"`;
}

/** `url` with its database (path) replaced by `database`. */
export function withDatabase(url, database) {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
