import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { OrphanReason } from '@quarry/contracts';
import { inTransaction, LeaderSweepService } from '@quarry/eventstore';
import { NodeEndWatcher } from '@quarry/membership';
import { DB_POOL, LOGGER, NODE_IDENTITY, QUARRY_CONFIG, QuarryMetrics, type NodeIdentity, type QuarryConfig } from '@quarry/platform';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { QUEUE_CHANNEL } from '../application/query-channels';
import { isSettled } from '../domain/query-status';
import { QueryRepository } from '../infrastructure/query-repository';
import { queryWork, type Orphan } from '../infrastructure/query-work';

const TAKEOVER_LOCK = 7_041_998_011;
const BATCH = 200;

/**
 * Takes over the queries of a node incarnation that ended without finishing them: each goes back
 * to the queue under its old place (TakeOver: FAILING, then QUEUED; a re-run is asked for again),
 * and the normal claim runs it on a survivor with a free slot. Exactly once per attempt whoever
 * notices first: the work row is locked (SKIP LOCKED) and the decider checks the attempt's owner.
 * It reacts to NodeDown/NodeLeft from Kafka; a reconciliation over PostgreSQL alone (one elected
 * node, every QUARRY_TAKEOVER_RECONCILE_MS) catches whatever Kafka did not bring.
 */
@Injectable()
export class QueryTakeoverService extends LeaderSweepService implements OnModuleInit {
  constructor(
    private readonly queries: QueryRepository,
    private readonly watcher: NodeEndWatcher,
    private readonly metrics: QuarryMetrics,
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
    @Inject(QUARRY_CONFIG) config: QuarryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super(pool, TAKEOVER_LOCK, 'query takeover reconciliation', logger, config.queries.takeoverReconcileMs);
  }

  onModuleInit(): void {
    this.watcher.onEnded(async ({ incarnation }) => void (await this.takeOverAll(incarnation)));
  }

  protected async pass(): Promise<void> {
    await this.takeOverAll();
  }

  /** Every orphan (of one incarnation, or of all ended ones); returns how many this node took. */
  async takeOverAll(incarnation?: string): Promise<number> {
    let taken = 0;
    for (;;) {
      const orphans = await queryWork.orphans(this.pool, BATCH, incarnation);
      let progressed = 0;
      for (const orphan of orphans) if (await this.takeOver(orphan, reasonOf(orphan.endedReason))) progressed++;
      taken += progressed;
      // Rows another node holds right now (SKIP LOCKED) are that node's to finish.
      if (orphans.length < BATCH || progressed === 0) break;
    }
    if (taken > 0) await this.pool.query('SELECT pg_notify($1, $2)', [QUEUE_CHANNEL, 'takeover']);
    return taken;
  }

  /** One orphan, in one transaction: its row first (as every writer), then its stream. */
  async takeOver(orphan: Orphan, reason: OrphanReason): Promise<boolean> {
    const done = await inTransaction(this.pool, async (tx) => {
      if (!(await queryWork.lockOrphan(tx, orphan.queryHandle, orphan.incarnation))) return false;
      const { state, events } = await this.queries.executeIn(tx, orphan.queryHandle, {
        type: 'TakeOver',
        nodeId: orphan.nodeId,
        incarnation: orphan.incarnation,
        reason,
        takenOverBy: this.identity.nodeId,
      });
      // A row whose query no longer runs there (finished, closed) just goes.
      if (events.length === 0 && isSettled(state)) await queryWork.remove(tx, orphan.queryHandle);
      else await queryWork.requeue(tx, orphan.queryHandle);
      return events.length > 0;
    });
    if (done) {
      this.metrics.queriesTakenOver.inc({ reason });
      this.logger.info({ query: orphan.queryHandle, fromNode: orphan.nodeId, fromIncarnation: orphan.incarnation, reason }, 'query taken over: queued again');
    }
    return done;
  }
}

function reasonOf(endedReason: string): OrphanReason {
  return endedReason === 'node-left' || endedReason === 'node-restarted' || endedReason === 'drain' ? endedReason : 'node-down';
}
