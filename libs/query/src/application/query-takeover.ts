import { Inject, Injectable } from '@nestjs/common';
import type { OrphanReason } from '@quarry/contracts';
import { inTransaction } from '@quarry/eventstore';
import { DB_POOL, LOGGER, NODE_IDENTITY, QuarryMetrics, type NodeIdentity } from '@quarry/platform';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { isSettled } from '../domain/query-status';
import { QueryRepository } from '../infrastructure/query-repository';
import { queryWork, type Orphan } from '../infrastructure/query-work';
import { QUEUE_CHANNEL } from './query-channels';

const BATCH = 200;

/**
 * Puts attempts whose node incarnation ended (or is draining) back in the queue, each under its
 * old place (TakeOver: FAILING, then QUEUED; a re-run is asked for again), so that the normal
 * claim runs it on a node with a free slot. Exactly once per attempt, whoever calls: the work row
 * is locked (SKIP LOCKED) and the decider checks that the incarnation runs the current attempt.
 */
@Injectable()
export class QueryTakeover {
  constructor(
    private readonly queries: QueryRepository,
    private readonly metrics: QuarryMetrics,
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Every orphan (of one ended incarnation, or of all); returns how many this node took. */
  async takeOverEnded(incarnation?: string): Promise<number> {
    let taken = 0;
    for (;;) {
      const orphans = await queryWork.orphans(this.pool, BATCH, incarnation);
      let progressed = 0;
      for (const orphan of orphans) if (await this.takeOver(orphan, reasonOf(orphan.endedReason))) progressed++;
      taken += progressed;
      // Rows another node holds right now (SKIP LOCKED) are that node's to finish.
      if (orphans.length < BATCH || progressed === 0) break;
    }
    if (taken > 0) await this.wakeExecutors();
    return taken;
  }

  /** One attempt, in one transaction: its row first (as every writer), then its stream. */
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

  async wakeExecutors(): Promise<void> {
    await this.pool.query('SELECT pg_notify($1, $2)', [QUEUE_CHANNEL, 'takeover']);
  }
}

function reasonOf(endedReason: string): OrphanReason {
  return endedReason === 'node-left' || endedReason === 'node-restarted' || endedReason === 'drain' ? endedReason : 'node-down';
}
