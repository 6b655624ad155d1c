import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DB_POOL, LOGGER, NODE_IDENTITY, QUARRY_CONFIG, type NodeIdentity, type QuarryConfig } from '@quarry/platform';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { IncarnationEnder } from './incarnation-ender';
import { answersAs } from './health-probe';

const BATCH = 100;

interface Suspect {
  node_id: string;
  incarnation: string;
  http_url: string | null;
  last_beat: Date;
  /** Silent three times the down-after time: answering HTTP no longer saves it (it cannot reach the database). */
  long_silent: boolean;
}

/**
 * Declares down the node incarnations whose heartbeat stopped. Every node runs it, with no
 * leader: a paused leader would pause detection with it. Declaring down is exactly-once however
 * many nodes race (IncarnationEnder fences the writer under its row lock). Silence is measured on
 * the database clock, from the write side (`node_heartbeats`, `event_writers`), so it works while
 * Kafka is away. A silent node that still answers its health URL as the same incarnation is
 * late, not dead (a starved pool, a long pause under load), and is left alone.
 */
@Injectable()
export class FailureDetectorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;

  constructor(
    private readonly ender: IncarnationEnder,
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.pass ??= this.detect()
        .catch((error: Error) => this.logger.warn({ err: error.message }, 'failure detector pass failed; the next pass retries'))
        .finally(() => (this.pass = undefined));
    }, this.config.membership.heartbeatMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.pass;
  }

  private async detect(): Promise<void> {
    const { rows } = await this.pool.query<Suspect>(
      `SELECT h.node_id, h.incarnation, h.http_url, h.beat_at AS last_beat,
              h.beat_at < now() - make_interval(secs => $2::double precision * 3 / 1000) AS long_silent
       FROM node_heartbeats h JOIN event_writers w ON w.incarnation = h.incarnation
       WHERE w.ended_at IS NULL AND h.incarnation <> $1
         AND h.beat_at < now() - make_interval(secs => $2::double precision / 1000)
       ORDER BY h.beat_at LIMIT $3`,
      [this.identity.incarnation, this.config.membership.downAfterMs, BATCH],
    );
    for (const suspect of rows) {
      if (suspect.http_url && !suspect.long_silent && (await answersAs(suspect.http_url, suspect.incarnation, this.config.membership.probeTimeoutMs))) {
        this.logger.warn({ node: suspect.node_id, incarnation: suspect.incarnation, lastHeartbeatAt: suspect.last_beat }, 'a node is late with its heartbeat but answers; not declared down');
        continue;
      }
      await this.ender.declareDown({ nodeId: suspect.node_id, incarnation: suspect.incarnation, lastBeatAt: suspect.last_beat }, 'heartbeat-stopped');
    }
  }
}
