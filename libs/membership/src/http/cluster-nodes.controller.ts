import { Controller, Get, Inject } from '@nestjs/common';
import { DB_POOL } from '@quarry/platform';
import type { Pool } from 'pg';

/**
 * GET /cluster/nodes: the membership view every node shares, read from the projection, with each
 * incarnation's last heartbeat (database clock; null if it never beat).
 */
@Controller('cluster')
export class ClusterNodesController {
  constructor(@Inject(DB_POOL) private readonly pool: Pool) {}

  @Get('nodes')
  async nodes() {
    const { rows } = await this.pool.query(
      `SELECT n.node_id AS "nodeId", n.incarnation, n.http_url AS "httpUrl", n.services, n.state,
              n.joined_at AS "joinedAt", n.ended_at AS "endedAt", h.beat_at AS "lastHeartbeatAt"
       FROM nodes n LEFT JOIN node_heartbeats h ON h.incarnation = n.incarnation
       ORDER BY n.joined_at DESC LIMIT 200`,
    );
    return { nodes: rows };
  }
}
