import { Pool } from 'pg';
import type { StatementCounts } from '@quarry/platform';
import type { Logger } from 'pino';
import { countStatements } from './counted-statements';

/**
 * The name every database session of an incarnation carries (pg_stat_activity.application_name),
 * so the cluster can cut off an incarnation it declared down. At most 63 bytes.
 */
export function applicationNameOf(incarnation: string): string {
  return `quarry ${incarnation}`;
}

/**
 * Quarry's pool. A connection can die at any time (a restart, a failover, pg_terminate_backend);
 * node-postgres then emits 'error' on its client, which would crash the node if nobody listened.
 * pg-pool listens only while the client is idle, so every client gets a listener of its own for
 * its whole life, checked out or not. A client that failed is not reused: pg-pool drops it when
 * idle or released with the error (inTransaction does so), and it fails every later statement.
 */
export function createPool(databaseUrl: string, max: number, logger?: Logger, incarnation?: string, counts?: StatementCounts): Pool {
  const pool = new Pool({
    connectionString: databaseUrl,
    max,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
    ...(incarnation && { application_name: applicationNameOf(incarnation) }),
  });
  pool.on('connect', (client) => {
    if (counts) countStatements(client, counts);
    let lost = false;
    client.on('error', (error: Error & { code?: string }) => {
      // One loss may be reported twice (the server's message, then the socket's end): log it once.
      if (lost) return;
      lost = true;
      logger?.warn({ err: error.message, code: error.code }, 'database connection lost; a new one replaces it on next use');
    });
  });
  // An idle client that failed is already out of the pool and logged by its own listener.
  pool.on('error', () => undefined);
  return pool;
}
