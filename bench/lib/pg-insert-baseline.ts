import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import type { BenchContext } from './context';
import { envelopeLike } from './load';
import { runConcurrently } from './stats';

/**
 * Baseline (a): one autocommitted single-row INSERT into a scratch table through `pg`, the
 * cheapest durable write PostgreSQL offers (one WAL flush per commit, like an append). Kept open
 * so that a bench can measure it in rounds between its own (same machine state for both).
 */
export class PgInsertBaseline {
  private constructor(
    private readonly ctx: BenchContext,
    private readonly pool: Pool,
  ) {}

  static async open(ctx: BenchContext, connections: number): Promise<PgInsertBaseline> {
    const pool = new Pool({ connectionString: ctx.databaseUrl, max: connections });
    pool.on('error', () => undefined);
    await pool.query(`
      CREATE TABLE IF NOT EXISTS bench_pg_insert (
        id         bigserial PRIMARY KEY,
        k          uuid NOT NULL,
        payload    jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    const baseline = new PgInsertBaseline(ctx, pool);
    ctx.defer(() => baseline.close());
    return baseline;
  }

  private insert(i: number) {
    return this.pool.query({ name: 'bench-pg-insert', text: 'INSERT INTO bench_pg_insert (k, payload) VALUES ($1, $2)', values: [randomUUID(), envelopeLike(i)] });
  }

  /** `count` sequential inserts, each one's latency (ms). */
  async latencies(count: number): Promise<number[]> {
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      this.ctx.signal.throwIfAborted();
      const t0 = performance.now();
      await this.insert(i);
      samples.push(performance.now() - t0);
    }
    return samples;
  }

  /** `total` inserts over `concurrency` connections; how long they took (ms). */
  async throughput(total: number, concurrency: number): Promise<number> {
    const started = performance.now();
    await runConcurrently(total, concurrency, (i) => this.insert(i).then(() => undefined), this.ctx.signal);
    return performance.now() - started;
  }

  private closed = false;

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.query('DROP TABLE IF EXISTS bench_pg_insert').catch(() => undefined);
    await this.pool.end();
  }
}
