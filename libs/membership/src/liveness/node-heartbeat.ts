import { Inject, Injectable } from '@nestjs/common';
import type { Sql } from '@quarry/eventstore';
import { DB_POOL, LOGGER, NODE_IDENTITY, type NodeIdentity } from '@quarry/platform';
import type { Pool } from 'pg';
import type { Logger } from 'pino';

/**
 * This incarnation's heartbeat: its `node_heartbeats` row set to the database's now() at every
 * tick. The database clock, not the node's, so skewed node clocks cannot make a node look dead.
 */
@Injectable()
export class NodeHeartbeat {
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;

  constructor(
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** One beat; `sql` may be a transaction (the first beat commits with NodeJoined). */
  async beat(sql: Sql = this.pool): Promise<void> {
    await sql.query(
      `INSERT INTO node_heartbeats (incarnation, node_id, beat_at) VALUES ($1, $2, now())
       ON CONFLICT (incarnation) DO UPDATE SET beat_at = now()`,
      [this.identity.incarnation, this.identity.nodeId],
    );
  }

  start(everyMs: number): void {
    this.timer = setInterval(() => {
      // A slow beat is not stacked with the next; a failed one is retried at the next tick.
      this.beating ??= this.beat()
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
