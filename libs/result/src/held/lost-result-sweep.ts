import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { LeaderSweepService } from '@quarry/eventstore';
import { NodeEndWatcher } from '@quarry/membership';
import { DB_POOL, LOGGER } from '@quarry/platform';
import { QueryCommands } from '@quarry/query';
import type { Pool } from 'pg';
import type { Logger } from 'pino';

const LOST_RESULTS_LOCK = 7_041_998_007;
const BATCH = 500;
// A backup for a NodeDown/NodeLeft the node feed missed: a pass (and a lock try on every other node) every 5 s, not every second.
const PASS_MS = 5000;
const REASONS = new Set(['node-left', 'node-down', 'node-restarted']);

/**
 * Says when an in-memory result is gone because its holder ended (stopped, declared down, or
 * started again): ResultLost for each result the `queries` projection still places on an
 * incarnation that has ended (`event_writers`, the write side), so status reads turn
 * isResultSetAvailable false on every node. It runs when Kafka brings NodeDown/NodeLeft, and as a
 * sweep on one elected node for anything missed.
 */
@Injectable()
export class LostResultSweep extends LeaderSweepService implements OnModuleInit {
  constructor(
    private readonly queries: QueryCommands,
    private readonly watcher: NodeEndWatcher,
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super(pool, LOST_RESULTS_LOCK, 'lost results', logger, PASS_MS);
  }

  onModuleInit(): void {
    this.watcher.onEnded(() => this.markLost());
  }

  protected pass(): Promise<void> {
    return this.markLost();
  }

  private async markLost(): Promise<void> {
    const { rows } = await this.pool.query<{ query_handle: string; incarnation: string; ended_reason: string }>(
      `SELECT q.query_handle, q.result_holder_incarnation AS incarnation, w.ended_reason
       FROM queries q JOIN event_writers w ON w.incarnation = q.result_holder_incarnation
       WHERE q.result_holder_incarnation IS NOT NULL AND w.ended_at IS NOT NULL LIMIT $1`,
      [BATCH],
    );
    for (const row of rows) {
      const reason = (REASONS.has(row.ended_reason) ? row.ended_reason : 'node-down') as 'node-left' | 'node-down' | 'node-restarted';
      const { events } = await this.queries.execute(row.query_handle, { type: 'LoseResult', incarnation: row.incarnation, reason });
      if (events.length > 0) this.logger.info({ query: row.query_handle, reason }, 'in-memory result lost with its node');
    }
  }
}
