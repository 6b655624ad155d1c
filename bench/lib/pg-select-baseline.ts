import { Client, Pool } from 'pg';
import type { BenchContext } from './context';
import { withDeadline } from './load';
import { closedLoopOf, type LoadRun } from './stats';

/**
 * Baseline: a statement sent straight to PostgreSQL through raw `pg` (simple protocol, one round
 * trip, no transaction of its own beyond the implicit one), the floor under any query a server
 * runs there for its clients. The answer is checked: `SELECT 1` must give one row holding 1.
 */
const SELECT_ONE = { text: 'SELECT 1', rowMode: 'array' as const };

/** The application_name of the baseline's connections, to tell them apart in pg_stat_activity. */
export const PG_BASELINE_APPLICATION = 'quarry bench baseline';

function isOne(rows: unknown[][]): boolean {
  return rows.length === 1 && rows[0][0] === 1;
}

/** One connection for sequential round trips; closed by a ctx clean-up. */
export async function pgSelectClient(ctx: BenchContext, url: string): Promise<{ roundTrip(): Promise<number> }> {
  const client = new Client({ connectionString: url, application_name: PG_BASELINE_APPLICATION, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  ctx.defer(() => client.end().catch(() => undefined));
  return {
    /** ms from sending `SELECT 1` to its checked answer. */
    async roundTrip() {
      const t0 = performance.now();
      const result = await client.query<unknown[]>(SELECT_ONE);
      const ms = performance.now() - t0;
      if (!isOne(result.rows)) throw new Error(`SELECT 1 on the warehouse answered ${JSON.stringify(result.rows)}`);
      return ms;
    },
  };
}

/**
 * `SELECT 1` over `concurrency` connections (all opened before timing), each lane sending its next
 * statement when the previous answer is in, for `durationMs` after `warmupMs`. The pool is closed
 * before returning, so its connections do not sit beside whatever is measured next.
 */
export async function pgSelectLoad(url: string, options: { concurrency: number; durationMs: number; warmupMs: number; signal?: AbortSignal }): Promise<LoadRun> {
  const pool = new Pool({ connectionString: url, max: options.concurrency, application_name: PG_BASELINE_APPLICATION, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => undefined);
  // A connection dropped while checked out (the database dropped at clean-up) must not crash the runner.
  pool.on('connect', (client) => client.on('error', () => undefined));
  try {
    const connected = await Promise.allSettled(Array.from({ length: options.concurrency }, () => pool.connect()));
    // Every connection back first, or pool.end() below would wait for them forever.
    for (const c of connected) if (c.status === 'fulfilled') c.value.release();
    const refused = connected.find((c) => c.status === 'rejected');
    if (refused) throw new Error(`opening ${options.concurrency} connections to the warehouse: ${(refused.reason as Error).message}`);
    const op = async () => {
      const t0 = performance.now();
      const result = await pool.query<unknown[]>(SELECT_ONE);
      const ms = performance.now() - t0;
      return isOne(result.rows) ? { ok: true, ms } : { ok: false, ms, error: `SELECT 1 answered ${JSON.stringify(result.rows)}` };
    };
    const load = (durationMs: number) => closedLoopOf({ concurrency: options.concurrency, durationMs, op, signal: options.signal });
    await load(options.warmupMs);
    return await load(options.durationMs);
  } finally {
    await withDeadline(pool.end(), 10_000, 'closing the baseline pool').catch(() => undefined);
  }
}
