import { Inject, Injectable } from '@nestjs/common';
import { NodeDown, streamId } from '@quarry/contracts';
import { applicationNameOf, inTransaction, PgEventStore } from '@quarry/eventstore';
import { DB_POOL, LOGGER, NODE_IDENTITY, QuarryMetrics, type NodeIdentity } from '@quarry/platform';
import type { Pool } from 'pg';
import type { Logger } from 'pino';

export interface EndedIncarnation {
  nodeId: string;
  incarnation: string;
  lastBeatAt: Date;
}

/**
 * Ends another node incarnation for the cluster: cuts it off from the database (its sessions,
 * and the advisory locks and transactions they hold, go at once, so a paused leader cannot stall
 * the relay or the sweeps), fences its appends, and records NodeDown — once, whoever calls.
 */
@Injectable()
export class IncarnationEnder {
  constructor(
    private readonly store: PgEventStore,
    private readonly metrics: QuarryMetrics,
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Says whether this call ended it (false: it had ended already). */
  async declareDown(target: EndedIncarnation, cause: 'heartbeat-stopped' | 'restarted'): Promise<boolean> {
    // First, so that a paused node's open transaction cannot hold the fence below back.
    await this.cutOff(target.incarnation);
    const ended = await inTransaction(this.pool, async (tx) => {
      if (!(await this.store.endWriter(tx, target.incarnation, cause === 'restarted' ? 'node-restarted' : 'node-down'))) return false;
      await this.store.appendIn(tx, streamId('node', target.nodeId), 'any', [
        NodeDown.create({
          nodeId: target.nodeId,
          incarnation: target.incarnation,
          detectedBy: this.identity.nodeId,
          lastHeartbeatAt: target.lastBeatAt.toISOString(),
          cause,
        }),
      ]);
      return true;
    });
    if (!ended) return false;
    this.metrics.nodesDeclaredDown.inc();
    this.logger.warn(
      { downNode: target.nodeId, downIncarnation: target.incarnation, lastHeartbeatAt: target.lastBeatAt.toISOString(), cause },
      cause === 'restarted' ? 'earlier incarnation of this node declared down: the node started again' : 'node declared down: its heartbeat stopped',
    );
    return true;
  }

  private async cutOff(incarnation: string): Promise<void> {
    const { rows } = await this.pool.query<{ cut: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS cut FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
      [applicationNameOf(incarnation)],
    );
    if (rows[0].cut > 0) this.logger.info({ incarnation, sessions: rows[0].cut }, 'cut an ended incarnation off from the database');
  }
}
