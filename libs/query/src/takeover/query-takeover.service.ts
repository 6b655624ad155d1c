import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { LeaderSweepService } from '@quarry/eventstore';
import { NodeEndWatcher } from '@quarry/membership';
import { DB_POOL, LOGGER, QUARRY_CONFIG, type QuarryConfig } from '@quarry/platform';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { QueryTakeover } from '../application/query-takeover';

const TAKEOVER_LOCK = 7_041_998_011;

/**
 * When to take over a dead node's queries: at once when Kafka brings its NodeDown or NodeLeft,
 * and, for whatever Kafka did not bring (a broker outage), in a reconciliation over PostgreSQL
 * alone on one elected node every QUARRY_TAKEOVER_RECONCILE_MS.
 */
@Injectable()
export class QueryTakeoverService extends LeaderSweepService implements OnModuleInit {
  constructor(
    private readonly takeover: QueryTakeover,
    private readonly watcher: NodeEndWatcher,
    @Inject(DB_POOL) pool: Pool,
    @Inject(QUARRY_CONFIG) config: QuarryConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    super(pool, TAKEOVER_LOCK, 'query takeover reconciliation', logger, config.queries.takeoverReconcileMs);
  }

  onModuleInit(): void {
    this.watcher.onEnded(async ({ incarnation }) => void (await this.takeover.takeOverEnded(incarnation)));
  }

  protected async pass(): Promise<void> {
    await this.takeover.takeOverEnded();
  }
}
