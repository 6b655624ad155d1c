import { Inject, Injectable } from '@nestjs/common';
import { DB_POOL } from '@quarry/platform';
import type { Pool } from 'pg';

/** How many running query handles the view lists per incarnation (the count is always whole). */
const HANDLES_SHOWN = 50;

/** One node incarnation as the cluster view shows it. */
export interface ClusterNode {
  nodeId: string;
  incarnation: string;
  httpUrl: string;
  services: string[];
  state: 'UP' | 'LEFT' | 'DOWN';
  joinedAt: Date;
  endedAt: Date | null;
  lastHeartbeatAt: Date | null;
  msSinceHeartbeat: number | null;
  runningQueries: { count: number; handles: string[] };
  heldResults: { count: number; bytes: number };
}

/**
 * The membership view every node shares (GET /cluster/nodes, gRPC ClusterService.Nodes), read from
 * the projection, with each incarnation's last heartbeat (database clock; null if it never beat)
 * and how long ago that was, the queries it runs now (from the work table, so it is current) and
 * the in-memory results it holds (from the `queries` projection).
 */
@Injectable()
export class ClusterView {
  constructor(@Inject(DB_POOL) private readonly pool: Pool) {}

  async nodes(): Promise<ClusterNode[]> {
    const { rows } = await this.pool.query(
      `SELECT n.node_id AS "nodeId", n.incarnation, n.http_url AS "httpUrl", n.services, n.state,
              n.joined_at AS "joinedAt", n.ended_at AS "endedAt", h.beat_at AS "lastHeartbeatAt",
              (extract(epoch FROM now() - h.beat_at) * 1000)::bigint AS "msSinceHeartbeat",
              json_build_object('count', coalesce(run.n, 0), 'handles', coalesce(run.handles, '[]'::json)) AS "runningQueries",
              json_build_object('count', coalesce(held.n, 0), 'bytes', coalesce(held.bytes, 0)) AS "heldResults"
       FROM nodes n
       LEFT JOIN node_heartbeats h ON h.incarnation = n.incarnation
       LEFT JOIN LATERAL (
         SELECT count(*)::int AS n, json_agg(q.query_handle ORDER BY q.seq) FILTER (WHERE q.rank <= $1) AS handles
         FROM (SELECT query_handle, seq, row_number() OVER (ORDER BY seq) AS rank FROM query_queue WHERE owner_incarnation = n.incarnation) q
       ) run ON true
       LEFT JOIN LATERAL (
         SELECT count(*)::int AS n, sum(result_holder_bytes)::bigint AS bytes FROM queries WHERE result_holder_incarnation = n.incarnation
       ) held ON true
       ORDER BY n.joined_at DESC LIMIT 200`,
      [HANDLES_SHOWN],
    );
    return rows.map((r) => ({ ...r, msSinceHeartbeat: r.msSinceHeartbeat === null ? null : Number(r.msSinceHeartbeat), heldResults: { ...r.heldResults, bytes: Number(r.heldResults.bytes) } }));
  }
}
