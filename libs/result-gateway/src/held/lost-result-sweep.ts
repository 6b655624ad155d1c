import { Inject, Injectable } from '@nestjs/common';
import { LeaderSweepService } from '@quarry/eventstore';
import { DB_POOL, LOGGER } from '@quarry/platform';
import { QueryRepository } from '@quarry/query';
import type { Pool } from 'pg';
import type { Logger } from 'pino';

const LOST_RESULTS_LOCK = 7_041_998_007;
const BATCH = 500;
const PASS_MS = 1000;

/**
 * Says when an in-memory result is gone because its holder ended (stopped or declared down):
 * ResultLost for each result the `queries` projection still places on an incarnation that is
 * no longer UP, so status reads turn isResultSetAvailable false on every node. One node leads.
 */
@Injectable()
export class LostResultSweep extends LeaderSweepService {
  constructor(
    private readonly queries: QueryRepository,
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super(pool, LOST_RESULTS_LOCK, 'lost results', logger, PASS_MS);
  }

  protected pass(): Promise<void> {
    return this.markLost();
  }

  private async markLost(): Promise<void> {
    const { rows } = await this.pool.query<{ query_handle: string; incarnation: string; state: 'LEFT' | 'DOWN' }>(
      `SELECT q.query_handle, q.result_holder_incarnation AS incarnation, n.state
       FROM queries q JOIN nodes n ON n.incarnation = q.result_holder_incarnation
       WHERE q.result_holder_incarnation IS NOT NULL AND n.state <> 'UP' LIMIT $1`,
      [BATCH],
    );
    for (const row of rows) {
      const reason = row.state === 'LEFT' ? 'node-left' : 'node-down';
      const { events } = await this.queries.execute(row.query_handle, { type: 'LoseResult', incarnation: row.incarnation, reason });
      if (events.length > 0) this.logger.info({ query: row.query_handle, reason }, 'in-memory result lost with its node');
    }
  }
}
