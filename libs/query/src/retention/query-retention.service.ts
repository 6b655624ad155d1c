import { Inject, Injectable } from '@nestjs/common';
import { LeaderSweepService } from '@quarry/eventstore';
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
export class QueryRetentionService extends LeaderSweepService {
  constructor(
    private readonly queries: QueryRepository,
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    super(pool, RETENTION_LOCK, 'query retention', logger, config.queries.retentionCheckMs);
  }

  protected pass(): Promise<void> {
    return this.closeOld();
  }

  private async closeOld(): Promise<void> {
    const { rows } = await this.pool.query<{ query_handle: string }>(
      `SELECT query_handle FROM queries WHERE status IN ('SUCCESSFUL', 'FAILED', 'CANCELED')
         AND finished_at < now() - make_interval(secs => $1::double precision / 1000) ORDER BY finished_at LIMIT $2`,
      [this.config.queries.retentionMs, BATCH],
    );
    for (const { query_handle } of rows) {
      await this.queries.execute(query_handle, { type: 'Close', reason: 'retention' }).catch((error: Error) => {
        // Closed or moved on meanwhile.
        if (!(error instanceof QueryRefused)) throw error;
      });
    }
  }
}
