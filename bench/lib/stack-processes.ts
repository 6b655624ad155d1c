import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'pg';
import { cpuBetween, cpuOf, processTree } from './process-tree';

/** The PostgreSQL processes that matter to a bench, read from pg_stat_activity (the server is shared). */
export async function postgresProcesses(pool: Pool, databases: string[], excludeApplication?: string): Promise<{ own: number[]; server: number[] }> {
  const { rows } = await pool.query<{ pid: number; datname: string | null; backend_type: string; application_name: string }>(
    'SELECT pid, datname, backend_type, application_name FROM pg_stat_activity WHERE pid <> pg_backend_pid()',
  );
  const own = rows
    .filter((r) => r.datname !== null && databases.includes(r.datname) && r.backend_type === 'client backend' && r.application_name !== excludeApplication)
    .map((r) => r.pid);
  const clients = new Set(rows.filter((r) => r.backend_type === 'client backend').map((r) => r.pid));
  const helper = rows.find((r) => r.backend_type === 'checkpointer');
  const postmaster = helper ? parentOf(helper.pid) : undefined;
  // The postmaster and its helpers (WAL writer, checkpointer, autovacuum, ...), nobody's backends.
  const server = postmaster ? processTree(postmaster).filter((pid) => !clients.has(pid)) : [];
  return { own, server };
}

export function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** The broker `npm start`/`npm test` started (its pid file); undefined for one started otherwise. */
export function brokerPid(repoRoot: string): number | undefined {
  const pidFile = join(process.env.QUARRY_CACHE_DIR ?? join(repoRoot, '.cache'), 'kafka', 'broker.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (parentOf(pid) !== undefined) return pid;
  }
  return undefined;
}

export interface StackParts {
  /** Node processes by id: each counts with its children (the DuckDB host), unless `alone` (a bench process, whose children are the nodes). */
  nodes: { nodeId: string; pid?: number; alone?: boolean }[];
  balancerPid?: number;
  brokerPid?: number;
  /** Reads pg_stat_activity. */
  pool: Pool;
  /** The databases whose backends are the stack's (Quarry's own, the warehouse). */
  databases: string[];
  /** Backends of this application name are a baseline's, not the stack's. */
  excludeApplication?: string;
}

/** CPU ms each part of the stack used during `work` (a backend born meanwhile counts in full; one gone meanwhile is missed). */
export async function stackCpuDuring<T>(parts: StackParts, work: () => Promise<T>): Promise<{ result: T; elapsedMs: number; cpuMs: Record<string, number> }> {
  const groups = (pg: { own: number[]; server: number[] }): Record<string, number[]> => ({
    ...Object.fromEntries(parts.nodes.filter((n) => n.pid !== undefined).map((n) => [n.nodeId, n.alone ? [n.pid!] : processTree(n.pid!)])),
    ...(parts.balancerPid ? { balancer: processTree(parts.balancerPid) } : {}),
    'PostgreSQL backends': pg.own,
    'PostgreSQL server': pg.server,
    ...(parts.brokerPid ? { 'Kafka broker': [parts.brokerPid] } : {}),
  });
  const pg0 = await postgresProcesses(parts.pool, parts.databases, parts.excludeApplication);
  const before = Object.entries(groups(pg0)).map(([name, pids]) => [name, cpuOf(pids)] as const);
  const t0 = performance.now();
  const result = await work();
  const elapsedMs = performance.now() - t0;
  const pg1 = await postgresProcesses(parts.pool, parts.databases, parts.excludeApplication);
  const after = groups({ own: [...new Set([...pg0.own, ...pg1.own])], server: pg1.server });
  const cpuMs = Object.fromEntries(before.map(([name, cpu0]) => [name, cpuBetween(cpu0, cpuOf(after[name]))]));
  return { result, elapsedMs, cpuMs };
}

/** One connection (or `max`) for a few statements; a drop of the database at clean-up must not crash the runner. */
export function scratchPool(url: string, options: { max?: number; applicationName?: string } = {}): Pool {
  const pool = new Pool({ connectionString: url, max: options.max ?? 1, connectionTimeoutMillis: 10_000, application_name: options.applicationName });
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}
