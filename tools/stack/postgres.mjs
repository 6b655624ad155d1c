// PostgreSQL for development and tests: reuse what is there, or run a private cluster.
//
//   node tools/stack/postgres.mjs up     ensure a server and the `quarry` database; print DATABASE_URL
//   node tools/stack/postgres.mjs down   stop the private cluster if this tool started one
import { isMainModule, logToStderr, runCli } from './lib/cli.mjs';
import { createDatabase, dropDatabase, postgresProblem, withDatabase } from './postgres/databases.mjs';
import { findPostgresBinDir, localClusterAdminUrl, startLocalCluster, stopLocalCluster } from './postgres/local-cluster.mjs';

export { createDatabase, dropDatabase, stopLocalCluster };

/** The database the application uses. */
export const quarryDatabase = 'quarry';

const systemAdminUrl = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Finds or starts a PostgreSQL server and makes sure the `quarry` database exists.
 * Resolves to { databaseUrl, adminUrl, started, stop? }; `stop` is present only when this call
 * started a server (the private cluster).
 *
 * Order: DATABASE_URL (admin URL from DATABASE_ADMIN_URL, else the same server's `postgres`
 * database) → a server on 127.0.0.1:5432 as user postgres → a private cluster on port 55432
 * built from /usr/lib/postgresql/<newest>/bin.
 */
export async function ensurePostgres({ log = () => {} } = {}) {
  if (process.env.DATABASE_URL) return fromEnvironment(process.env.DATABASE_URL);

  const systemProblem = await postgresProblem(systemAdminUrl, 2000);
  if (!systemProblem) {
    await createDatabase(systemAdminUrl, quarryDatabase);
    return { databaseUrl: withDatabase(systemAdminUrl, quarryDatabase), adminUrl: systemAdminUrl, started: false };
  }

  const binDir = findPostgresBinDir();
  if (binDir) {
    log(`No PostgreSQL on 127.0.0.1:5432 (${systemProblem.message}); using a private cluster.`);
    const { started } = await startLocalCluster({ binDir, log });
    await createDatabase(localClusterAdminUrl, quarryDatabase);
    return {
      databaseUrl: withDatabase(localClusterAdminUrl, quarryDatabase),
      adminUrl: localClusterAdminUrl,
      started,
      ...(started ? { stop: async () => void (await stopLocalCluster({ binDir })) } : {}),
    };
  }

  throw new Error(
    `No PostgreSQL found: nothing answers on 127.0.0.1:5432 as user postgres (${systemProblem.message}) ` +
      'and no PostgreSQL binaries are installed. Install PostgreSQL (`apt-get install postgresql`) ' +
      'or set DATABASE_URL to a server you can use.',
  );
}

async function fromEnvironment(databaseUrl) {
  const problem = await postgresProblem(databaseUrl, 5000);
  if (problem) throw new Error(`DATABASE_URL (${redact(databaseUrl)}) does not answer: ${problem.message}`);
  const adminUrl = process.env.DATABASE_ADMIN_URL || withDatabase(databaseUrl, 'postgres');
  return { databaseUrl, adminUrl, started: false };
}

/** A URL with its password masked, for error messages. */
function redact(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable URL>';
  }
}

async function main() {
  const command = process.argv[2];
  if (command === 'up') {
    const { databaseUrl } = await ensurePostgres({ log: logToStderr });
    console.log(`DATABASE_URL=${databaseUrl}`);
    return 0;
  }
  if (command === 'down') {
    console.log((await stopLocalCluster()) ? 'Private PostgreSQL cluster stopped.' : 'No private PostgreSQL cluster is running.');
    return 0;
  }
  console.error('usage: node tools/stack/postgres.mjs up|down');
  return 2;
}

if (isMainModule(import.meta.url)) runCli(main);
