// A private PostgreSQL cluster in the cache, for machines with Debian's PostgreSQL binaries but no
// running server. initdb and pg_ctl refuse to run as root, so as root they run as the `postgres` user.
import { appendFileSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../paths.mjs';
import { tailFile } from '../lib/files.mjs';
import { runCommand } from '../lib/processes.mjs';
import { postgresProblem } from './databases.mjs';

export const localClusterPort = 55432;
const debianPostgresRoot = '/usr/lib/postgresql';
const osUser = 'postgres';

/** Locations of the private cluster under `<cacheDir>/postgres`. */
export function localClusterPaths() {
  const root = join(cacheDir, 'postgres');
  return { root, dataDir: join(root, 'data'), socketDir: join(root, 'run'), logFile: join(root, 'postgres.log') };
}

/** Admin URL (database `postgres`) of the private cluster. */
export const localClusterAdminUrl = `postgres://postgres@127.0.0.1:${localClusterPort}/postgres`;

/** bin dir of the newest Debian PostgreSQL install (/usr/lib/postgresql/<major>/bin), or undefined. */
export function findPostgresBinDir() {
  if (!existsSync(debianPostgresRoot)) return undefined;
  const majors = readdirSync(debianPostgresRoot)
    .filter((entry) => /^\d+(\.\d+)?$/.test(entry) && existsSync(join(debianPostgresRoot, entry, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return majors.length ? join(debianPostgresRoot, majors[0], 'bin') : undefined;
}

/**
 * Creates (first time) and starts the private cluster on 127.0.0.1:55432 with trust auth.
 * Resolves to { started } — false when it was already running.
 */
export async function startLocalCluster({ binDir = findPostgresBinDir(), log = () => {} } = {}) {
  if (!binDir) throw new Error(`No PostgreSQL binaries found under ${debianPostgresRoot}`);
  if (!(await postgresProblem(localClusterAdminUrl, 1000))) return { started: false };

  const paths = localClusterPaths();
  await prepareDirectories(paths);
  if (!existsSync(join(paths.dataDir, 'PG_VERSION'))) await initCluster(binDir, paths, log);

  log(`Starting private PostgreSQL on 127.0.0.1:${localClusterPort} (data: ${paths.dataDir})`);
  await runPostgresTool(join(binDir, 'pg_ctl'), ['-D', paths.dataDir, '-l', paths.logFile, '-w', '-t', '60', 'start'], {
    description: 'Starting the private PostgreSQL cluster',
    logFile: paths.logFile,
  });
  const problem = await postgresProblem(localClusterAdminUrl, 5000);
  if (problem) {
    throw new Error(`The private PostgreSQL cluster started but does not answer: ${problem.message}\n${tailFile(paths.logFile, 20)}`);
  }
  return { started: true };
}

/** Stops the private cluster if it runs. Returns true when it was running. */
export async function stopLocalCluster({ binDir = findPostgresBinDir() } = {}) {
  const paths = localClusterPaths();
  if (!binDir || !existsSync(join(paths.dataDir, 'postmaster.pid'))) return false;
  await runPostgresTool(join(binDir, 'pg_ctl'), ['-D', paths.dataDir, '-m', 'fast', '-w', '-t', '60', 'stop'], {
    description: 'Stopping the private PostgreSQL cluster',
    logFile: paths.logFile,
  });
  return true;
}

async function initCluster(binDir, paths, log) {
  log(`Creating a private PostgreSQL cluster in ${paths.dataDir} (first run only)`);
  rmSync(paths.dataDir, { recursive: true, force: true }); // leftovers of an interrupted initdb
  mkdirSync(paths.dataDir, { mode: 0o700 });
  await chownToPostgres([paths.dataDir]);
  await runPostgresTool(
    join(binDir, 'initdb'),
    ['-D', paths.dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
    { description: 'initdb for the private PostgreSQL cluster' },
  );
  // Settings go into the config file (not pg_ctl -o) so a path with spaces needs no shell quoting.
  appendFileSync(
    join(paths.dataDir, 'postgresql.conf'),
    [
      '',
      '# Added by tools/stack/postgres: private development cluster.',
      `port = ${localClusterPort}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${paths.socketDir.replaceAll("'", "''")}'`,
      'max_connections = 200',
      '# Disposable development data: trade crash safety for speed.',
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      '',
    ].join('\n'),
  );
}

async function prepareDirectories(paths) {
  mkdirSync(paths.root, { recursive: true });
  mkdirSync(paths.socketDir, { recursive: true });
  await chownToPostgres([paths.root, paths.socketDir]);
  if (isRoot()) {
    // The postgres user must be able to reach the cache (a cache under /root is not reachable).
    await runCommand('runuser', ['-u', osUser, '--', 'test', '-w', paths.root]).catch(() => {
      throw new Error(
        `The '${osUser}' OS user cannot write ${paths.root}; set QUARRY_CACHE_DIR to a directory it can reach, or set DATABASE_URL.`,
      );
    });
  }
}

function isRoot() {
  return process.getuid?.() === 0;
}

async function chownToPostgres(dirs) {
  if (!isRoot()) return;
  const uid = Number((await runCommand('id', ['-u', osUser], { description: `Looking up the '${osUser}' OS user` })).stdout);
  const gid = Number((await runCommand('id', ['-g', osUser])).stdout);
  for (const dir of dirs) chownSync(dir, uid, gid);
}

/** Runs a PostgreSQL server tool, as the postgres OS user when we are root. */
async function runPostgresTool(tool, args, { description, logFile }) {
  const [command, commandArgs] = isRoot() ? ['runuser', ['-u', osUser, '--', tool, ...args]] : [tool, args];
  try {
    // cwd: pg_ctl fails when the current directory is not readable by the user it runs as.
    return await runCommand(command, commandArgs, { description, cwd: localClusterPaths().root });
  } catch (error) {
    const serverLog = logFile ? tailFile(logFile, 20) : '';
    throw new Error(serverLog ? `${error.message}\n--- ${logFile} ---\n${serverLog}` : error.message);
  }
}
