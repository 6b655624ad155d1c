import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import type { BenchContext } from './context';
import { envelopeLike, type LoadResult, type LoadSettings } from './load';
import { runConcurrently, summarize } from './stats';

/**
 * Baseline (a): one autocommitted single-row INSERT into a scratch table through `pg`, the
 * cheapest durable write PostgreSQL offers (one WAL flush per commit, like an append).
 * Latency: sequential inserts; throughput: `total` inserts over `concurrency` connections.
 */
export async function pgInsertBaseline(ctx: BenchContext, load: LoadSettings): Promise<LoadResult> {
  const pool = new Pool({ connectionString: ctx.databaseUrl, max: load.concurrency });
  pool.on('error', () => undefined);
  try {
    await pool.query(`
      CREATE TABLE IF NOT EXISTS bench_pg_insert (
        id         bigserial PRIMARY KEY,
        k          uuid NOT NULL,
        payload    jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    const insert = (i: number) =>
      pool.query({ name: 'bench-pg-insert', text: 'INSERT INTO bench_pg_insert (k, payload) VALUES ($1, $2)', values: [randomUUID(), envelopeLike(i)] });

    for (let i = 0; i < load.warmup; i++) await insert(i);
    const samples: number[] = [];
    for (let i = 0; i < load.samples; i++) {
      ctx.signal.throwIfAborted();
      const t0 = performance.now();
      await insert(i);
      samples.push(performance.now() - t0);
    }

    const started = performance.now();
    await runConcurrently(load.total, load.concurrency, (i) => insert(i).then(() => undefined), ctx.signal);
    const throughputMs = performance.now() - started;
    return { latency: summarize(samples), perSecond: (load.total / throughputMs) * 1000, throughputMs };
  } finally {
    await pool.query('DROP TABLE IF EXISTS bench_pg_insert').catch(() => undefined);
    await pool.end();
  }
}
