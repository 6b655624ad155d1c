import { Inject, Injectable } from '@nestjs/common';
import { NodeDown, storedEvent, streamId } from '@quarry/contracts';
import { ConcurrencyError, LeaderSweepService, PgEventStore } from '@quarry/eventstore';
import { DB_POOL, LOGGER, NODE_IDENTITY, QUARRY_CONFIG, QuarryMetrics, type NodeIdentity, type QuarryConfig } from '@quarry/platform';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { incarnationEnded } from './incarnation-ended';

const DETECTOR_LOCK = 7_041_998_010;
const BATCH = 100;

interface Suspect {
  node_id: string;
  incarnation: string;
  last_beat: Date;
}

/**
 * Declares down the node incarnations whose heartbeat stopped. Every node schedules it, one
 * leads (LeaderSweep). Silence is measured on the database clock; NodeDown is appended at most
 * once per incarnation, however far the `nodes` projection lags (see declareDown).
 */
@Injectable()
export class FailureDetectorService extends LeaderSweepService {
  constructor(
    private readonly store: PgEventStore,
    private readonly metrics: QuarryMetrics,
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super(pool, DETECTOR_LOCK, 'node failure detector', logger, config.membership.heartbeatMs);
  }

  protected pass(): Promise<void> {
    return this.detect();
  }

  private async detect(): Promise<void> {
    // A node that never beat (it joined before heartbeats existed) is silent since it joined.
    // The detector's own incarnation is plainly alive, whatever its row says after a stall.
    const { rows } = await this.pool.query<Suspect>(
      `SELECT n.node_id, n.incarnation, COALESCE(h.beat_at, n.joined_at) AS last_beat
       FROM nodes n LEFT JOIN node_heartbeats h ON h.incarnation = n.incarnation
       WHERE n.state = 'UP' AND n.incarnation <> $1
         AND COALESCE(h.beat_at, n.joined_at) < now() - make_interval(secs => $2::double precision / 1000)
       ORDER BY last_beat LIMIT $3`,
      [this.identity.incarnation, this.config.membership.downAfterMs, BATCH],
    );
    for (const suspect of rows) await this.declareDown(suspect);
  }

  /**
   * The stream, not the projection, says whether the incarnation already ended; the append
   * expects the version read, so a NodeLeft, a restart or another detector's NodeDown landing
   * meanwhile makes it fail, and the next pass decides again.
   */
  private async declareDown(suspect: Suspect): Promise<void> {
    const stream = streamId('node', suspect.node_id);
    const history = (await this.store.readStream(stream)).map(storedEvent);
    if (incarnationEnded(history, suspect.incarnation)) return;
    const lastHeartbeatAt = suspect.last_beat.toISOString();
    try {
      // Versions run 1..n, so the version read is the history's length.
      await this.store.append(stream, history.length, [
        NodeDown.create({ nodeId: suspect.node_id, incarnation: suspect.incarnation, detectedBy: this.identity.nodeId, lastHeartbeatAt }),
      ]);
    } catch (error) {
      if (error instanceof ConcurrencyError) return;
      throw error;
    }
    this.metrics.nodesDeclaredDown.inc();
    this.logger.warn(
      { downNode: suspect.node_id, downIncarnation: suspect.incarnation, lastHeartbeatAt, downAfterMs: this.config.membership.downAfterMs },
      'node declared down: its heartbeat stopped',
    );
  }
}
