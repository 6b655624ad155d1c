import { Inject, Injectable } from '@nestjs/common';
import type { Sql } from '@quarry/eventstore';
import { DB_POOL, IncarnationEnd, LOGGER, NODE_IDENTITY, QUARRY_CONFIG, type NodeIdentity, type QuarryConfig } from '@quarry/platform';
import type { Pool } from 'pg';
import type { Logger } from 'pino';

/**
 * This incarnation's heartbeat: its `node_heartbeats` row set to the database's now() at every
 * tick. The database clock, not the node's, so skewed node clocks cannot make a node look dead.
 */
@Injectable()
export class NodeHeartbeat {
  private timer?: NodeJS.Timeout;
  private beating?: Promise<unknown>;

  constructor(
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly end: IncarnationEnd,
  ) {}

  /**
   * One beat; `sql` may be a transaction (the first beat commits with NodeJoined). Says whether
   * the cluster has meanwhile ended this incarnation (declared it down).
   */
  async beat(sql: Sql = this.pool): Promise<boolean> {
    const { rows } = await sql.query<{ ended: boolean }>(
      `WITH beat AS (
         INSERT INTO node_heartbeats (incarnation, node_id, http_url, beat_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (incarnation) DO UPDATE SET beat_at = now() RETURNING 1)
       SELECT EXISTS (SELECT 1 FROM event_writers WHERE incarnation = $1 AND ended_at IS NOT NULL) AS ended FROM beat`,
      [this.identity.incarnation, this.identity.nodeId, this.config.advertisedUrl],
    );
    return rows[0]?.ended ?? false;
  }

  start(everyMs: number): void {
    this.timer = setInterval(() => {
      // A slow beat is not stacked with the next; a failed one is retried at the next tick.
      this.beating ??= this.beat()
        .then((ended) => ended && this.end.halt('declared down: its heartbeat stalled past QUARRY_NODE_DOWN_AFTER_MS'))
        .catch((error: Error) => this.logger.warn({ err: error.message }, 'heartbeat failed; the next tick retries'))
        .finally(() => (this.beating = undefined));
    }, everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
  }
}
