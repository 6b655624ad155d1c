import { Controller, Get, Inject } from '@nestjs/common';
import { ApiRoute, DB_POOL } from '@quarry/platform';
import type { Pool } from 'pg';

/** How many running query handles the view lists per incarnation (the count is always whole). */
const HANDLES_SHOWN = 50;

/**
 * GET /cluster/nodes: the membership view every node shares, read from the projection, with each
 * incarnation's last heartbeat (database clock; null if it never beat) and how long ago that was,
 * the queries it runs now (from the work table, so it is current) and the in-memory results it
 * holds (from the `queries` projection).
 */
@Controller('cluster')
export class ClusterNodesController {
  constructor(@Inject(DB_POOL) private readonly pool: Pool) {}

  @ApiRoute({ tag: 'cluster', summary: 'Every node incarnation seen: state, heartbeat, running queries, held results', answer: { json: { type: 'object', properties: { nodes: { type: 'array', items: { type: 'object', properties: { nodeId: { type: 'string' }, incarnation: { type: 'string' }, httpUrl: { type: 'string' }, services: { type: 'array', items: { type: 'string' } }, state: { type: 'string', enum: ['UP', 'LEFT', 'DOWN'] }, joinedAt: { type: 'string', format: 'date-time' }, endedAt: { type: 'string', format: 'date-time', nullable: true }, lastHeartbeatAt: { type: 'string', format: 'date-time', nullable: true }, msSinceHeartbeat: { type: 'integer', nullable: true }, runningQueries: { type: 'object', properties: { count: { type: 'integer' }, handles: { type: 'array', items: { type: 'string' } } } }, heldResults: { type: 'object', properties: { count: { type: 'integer' }, bytes: { type: 'integer' } } } } } } } } } })
  @Get('nodes')
  async nodes() {
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
    return { nodes: rows.map((r) => ({ ...r, msSinceHeartbeat: r.msSinceHeartbeat === null ? null : Number(r.msSinceHeartbeat), heldResults: { ...r.heldResults, bytes: Number(r.heldResults.bytes) } })) };
  }
}
