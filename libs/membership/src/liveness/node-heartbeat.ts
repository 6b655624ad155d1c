import { Inject, Injectable } from '@nestjs/common';
import { createPool, namedStatement, type Sql } from '@quarry/eventstore';
import { DB_POOL, IncarnationEnd, LOGGER, NODE_IDENTITY, QUARRY_CONFIG, type NodeIdentity, type QuarryConfig } from '@quarry/platform';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { FailureDetectorService, type Suspect } from './failure-detector.service';

/** Suspects one beat hands to the failure detector at most. */
const SUSPECTS = 100;

/**
 * The beat, named: every node sends it every second for as long as it runs; unnamed, it was parsed
 * and planned at every beat, and planning it cost PostgreSQL more than running it (pg_stat_statements:
 * 0.5-1.1 ms of planning against 0.2-0.8 ms of execution a beat, ADR 11).
 */
const BEAT = namedStatement(`WITH beat AS (
     INSERT INTO node_heartbeats (incarnation, node_id, http_url, beat_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (incarnation) DO UPDATE SET beat_at = now() RETURNING 1),
   suspects AS (
     SELECT h.node_id, h.incarnation, h.http_url, h.beat_at AS last_beat,
            h.beat_at < now() - make_interval(secs => $4::double precision * 3 / 1000) AS long_silent
     FROM node_heartbeats h JOIN event_writers w ON w.incarnation = h.incarnation
     WHERE w.ended_at IS NULL AND h.incarnation <> $1
       AND h.beat_at < now() - make_interval(secs => $4::double precision / 1000)
     ORDER BY h.beat_at LIMIT $5)
   SELECT EXISTS (SELECT 1 FROM event_writers WHERE incarnation = $1 AND ended_at IS NOT NULL) AS ended, s.*
   FROM beat LEFT JOIN suspects s ON true`);

/**
 * This incarnation's heartbeat: its `node_heartbeats` row set to the database's now() at every
 * tick. The database clock, not the node's, so skewed node clocks cannot make a node look dead.
 * The same statement finds the other incarnations silent past the down-after time, for the
 * failure detector: every node looks at every beat, at no extra round trip.
 *
 * The beats have a connection of their own, outside the request pool: a saturated node's pool
 * queue would otherwise hold a beat back (and skip the next tick), making a live node look silent.
 * It carries the incarnation's application_name like the pool's, so ending the incarnation cuts it too.
 */
@Injectable()
export class NodeHeartbeat {
  private timer?: NodeJS.Timeout;
  private beating?: Promise<unknown>;
  private connection?: Pool;

  constructor(
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly end: IncarnationEnd,
    private readonly detector: FailureDetectorService,
  ) {}

  /**
   * One beat; `sql` may be a transaction (the first beat commits with NodeJoined). Says whether
   * the cluster has meanwhile ended this incarnation (declared it down).
   */
  async beat(sql: Sql = this.connection ?? this.pool): Promise<{ ended: boolean; suspects: Suspect[] }> {
    // One row per suspect (or one with nulls); `ended` on each. The suspects are read in the
    // statement's snapshot: this beat's own row is left out by its incarnation anyway.
    const { rows } = await sql.query<{ ended: boolean } & Partial<Suspect>>({
      ...BEAT,
      values: [this.identity.incarnation, this.identity.nodeId, this.config.advertisedUrl, this.config.membership.downAfterMs, SUSPECTS],
    });
    const suspects = rows.filter((r): r is typeof r & Suspect => r.incarnation !== null && r.incarnation !== undefined);
    return { ended: rows[0]?.ended ?? false, suspects };
  }

  start(everyMs: number): void {
    this.connection ??= createPool(this.config.databaseUrl, 1, this.logger, this.identity.incarnation);
    this.timer = setInterval(() => {
      // A slow beat is not stacked with the next; a failed one is retried at the next tick.
      this.beating ??= this.beat()
        .then(({ ended, suspects }) =>
          ended ? this.end.halt('declared down: its heartbeat stalled past QUARRY_NODE_DOWN_AFTER_MS') : this.detector.examine(suspects),
        )
        .catch((error: Error) => this.logger.warn({ err: error.message }, 'heartbeat failed; the next tick retries'))
        .finally(() => (this.beating = undefined));
    }, everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
    await this.connection?.end().catch(() => undefined);
    this.connection = undefined;
  }
}
