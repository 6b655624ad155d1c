import { Pool } from 'pg';
import type { Logger } from 'pino';

/**
 * The name every database session of an incarnation carries (pg_stat_activity.application_name),
 * so the cluster can cut off an incarnation it declared down. At most 63 bytes.
 */
export function applicationNameOf(incarnation: string): string {
  return `quarry ${incarnation}`;
}

export function createPool(databaseUrl: string, max: number, logger?: Logger, incarnation?: string): Pool {
  const pool = new Pool({
    connectionString: databaseUrl,
    max,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
    ...(incarnation && { application_name: applicationNameOf(incarnation) }),
  });
  // An idle client losing its server (restart, network) must not crash the node.
  pool.on('error', (error) => logger?.warn({ err: error.message }, 'idle database connection lost'));
  return pool;
}
