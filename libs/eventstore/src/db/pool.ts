import { Pool } from 'pg';
import type { Logger } from 'pino';

export function createPool(databaseUrl: string, max: number, logger?: Logger): Pool {
  const pool = new Pool({ connectionString: databaseUrl, max, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30000 });
  // An idle client losing its server (restart, network) must not crash the node.
  pool.on('error', (error) => logger?.warn({ err: error.message }, 'idle database connection lost'));
  return pool;
}
