import { Inject, Injectable } from '@nestjs/common';
import type { Sql } from '@quarry/eventstore';
import { DB_POOL, LOGGER, NODE_IDENTITY, type NodeIdentity } from '@quarry/platform';
import type { Pool } from 'pg';
import type { Logger } from 'pino';

export const EXIT_DECLARED_DOWN = 75;

/**
 * This incarnation's heartbeat: its `node_heartbeats` row set to the database's now() at every
 * tick. The database clock, not the node's, so skewed node clocks cannot make a node look dead.
 */
@Injectable()
export class NodeHeartbeat {
  private timer?: NodeJS.Timeout;
  private beating?: Promise<unknown>;
  private fenced = false;

  constructor(
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * One beat; `sql` may be a transaction (the first beat commits with NodeJoined). Says whether
   * the cluster has meanwhile declared this incarnation down.
   */
  async beat(sql: Sql = this.pool): Promise<boolean> {
    const { rows } = await sql.query<{ down: boolean }>(
      `WITH beat AS (
         INSERT INTO node_heartbeats (incarnation, node_id, beat_at) VALUES ($1, $2, now())
         ON CONFLICT (incarnation) DO UPDATE SET beat_at = now() RETURNING 1)
       SELECT EXISTS (SELECT 1 FROM nodes WHERE incarnation = $1 AND state = 'DOWN') AS down FROM beat`,
      [this.identity.incarnation, this.identity.nodeId],
    );
    return rows[0]?.down ?? false;
  }

  start(everyMs: number): void {
    this.timer = setInterval(() => {
      // A slow beat is not stacked with the next; a failed one is retried at the next tick.
      this.beating ??= this.beat()
        .then((down) => down && this.fence())
        .catch((error: Error) => this.logger.warn({ err: error.message }, 'heartbeat failed; the next tick retries'))
        .finally(() => (this.beating = undefined));
    }, everyMs);
    this.timer.unref();
  }

  /**
   * Declared down while alive (a stall longer than QUARRY_NODE_DOWN_AFTER_MS): the cluster has
   * already said its results are lost and moved on, so this incarnation stops rather than act on
   * as a ghost. Started again, it joins as a new incarnation.
   */
  private fence(): void {
    if (this.fenced) return;
    this.fenced = true;
    clearInterval(this.timer);
    this.logger.fatal('this node incarnation was declared down by the cluster (its heartbeat stalled); stopping so that it can start again as a new one');
    // EX_TEMPFAIL: a supervisor that restarts on failure starts it again.
    process.exitCode = EXIT_DECLARED_DOWN;
    process.kill(process.pid, 'SIGTERM');
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
  }
}
