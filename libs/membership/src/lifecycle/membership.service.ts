import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { NodeJoined, NodeLeft, streamId } from '@quarry/contracts';
import { inTransaction, PgEventStore } from '@quarry/eventstore';
import { DB_POOL, IncarnationEnd, LOGGER, NodeDrain, NODE_IDENTITY, QUARRY_CONFIG, RUNNING_SERVICES, type NodeIdentity, type QuarryConfig } from '@quarry/platform';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { IncarnationEnder } from '../liveness/incarnation-ender';
import { NodeHeartbeat } from '../liveness/node-heartbeat';
import { refuseToJoinWithoutSecret } from './running-alone';

/**
 * Announces this incarnation to the cluster when the node is up, keeps its heartbeat going, and
 * on a clean stop drains (NodeDrain: queries finish or are handed over, results move to the
 * store), then announces its leaving. A node that starts again with the same id first ends its
 * earlier incarnations that nobody has declared down yet: they are certainly gone, and their
 * queries are taken over at once rather than after the down-after time.
 */
@Injectable()
export class MembershipService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly store: PgEventStore,
    private readonly heartbeat: NodeHeartbeat,
    private readonly ender: IncarnationEnder,
    private readonly end: IncarnationEnd,
    private readonly drain: NodeDrain,
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(RUNNING_SERVICES) private readonly services: string[],
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private get stream(): string {
    return streamId('node', this.identity.nodeId);
  }

  async onApplicationBootstrap(): Promise<void> {
    await refuseToJoinWithoutSecret(this.pool, { nodeId: this.identity.nodeId, clusterSecret: this.config.clusterSecret, downAfterMs: this.config.membership.downAfterMs });
    await this.endEarlierIncarnations();
    // The writer, the first beat and NodeJoined commit together: a node is never in `nodes`
    // without a heartbeat, nor a heartbeat without a fence.
    await inTransaction(this.pool, async (tx) => {
      await this.store.startWriter(tx, this.identity.nodeId);
      await this.store.appendIn(tx, this.stream, 'any', [
        NodeJoined.create({
          nodeId: this.identity.nodeId,
          incarnation: this.identity.incarnation,
          httpUrl: this.config.advertisedUrl,
          services: this.services,
        }),
      ]);
      await this.heartbeat.beat(tx);
    });
    this.heartbeat.start(this.config.membership.heartbeatMs);
    this.logger.info({ services: this.services }, 'node joined the cluster');
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.end.leaving();
    // Still beating while it drains, so that nobody declares it down meanwhile.
    await this.drain.run();
    await this.heartbeat.stop();
    try {
      // Its appends in flight first, then NodeLeft, then the fence: the goodbye is its last event.
      await inTransaction(this.pool, async (tx) => {
        if (!(await this.store.lockWriter(tx, this.identity.incarnation))) return;
        await this.store.appendIn(tx, this.stream, 'any', [NodeLeft.create({ nodeId: this.identity.nodeId, incarnation: this.identity.incarnation })]);
        await this.store.endWriter(tx, this.identity.incarnation, 'node-left');
      });
    } catch (error) {
      // The failure detector marks a node that could not say goodbye as down.
      this.logger.warn({ err: (error as Error).message }, 'could not record NodeLeft');
    }
  }

  private async endEarlierIncarnations(): Promise<void> {
    const { rows } = await this.pool.query<{ incarnation: string; last_beat: Date }>(
      `SELECT w.incarnation, COALESCE(h.beat_at, w.started_at) AS last_beat
       FROM event_writers w LEFT JOIN node_heartbeats h ON h.incarnation = w.incarnation
       WHERE w.node_id = $1 AND w.ended_at IS NULL AND w.incarnation <> $2`,
      [this.identity.nodeId, this.identity.incarnation],
    );
    for (const row of rows) {
      await this.ender.declareDown({ nodeId: this.identity.nodeId, incarnation: row.incarnation, lastBeatAt: row.last_beat }, 'restarted');
    }
  }
}
