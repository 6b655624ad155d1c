import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AdvisoryLeadership } from '@quarry/eventstore';
import { DB_POOL, LOGGER, QUARRY_CONFIG, type QuarryConfig } from '@quarry/platform';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { QueryRefused } from '../domain/query.errors';
import { QueryRepository } from '../infrastructure/query-repository';

const RETENTION_LOCK = 7_041_998_004;
const BATCH = 500;

/**
 * Closes finished queries once they are older than the retention time; their status stays
 * answerable (CLOSED, with every time). One node leads the sweep.
 */
@Injectable()
export class QueryRetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly leadership: AdvisoryLeadership;
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<number>;

  constructor(
    private readonly queries: QueryRepository,
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.leadership = new AdvisoryLeadership(pool, RETENTION_LOCK, 'query retention', logger);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep().finally(() => (this.sweeping = undefined));
    }, this.config.queries.retentionCheckMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
    await this.leadership.release();
  }

  async sweep(): Promise<number> {
    try {
      await this.leadership.verify();
      if (!(await this.leadership.tryAcquire())) return 0;
      const { rows } = await this.pool.query<{ query_handle: string }>(
        `SELECT query_handle FROM queries WHERE status IN ('SUCCESSFUL', 'FAILED', 'CANCELED')
           AND finished_at < now() - make_interval(secs => $1::double precision / 1000) ORDER BY finished_at LIMIT $2`,
        [this.config.queries.retentionMs, BATCH],
      );
      for (const { query_handle } of rows) {
        await this.queries.execute(query_handle, { type: 'Close', reason: 'retention' }).catch((error: Error) => {
          if (!(error instanceof QueryRefused)) throw error;
        });
      }
      return rows.length;
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'query retention pass failed; next pass retries');
      return 0;
    }
  }
}
