import { Controller, Get, Inject } from '@nestjs/common';
import { DB_POOL } from '@quarry/platform';
import type { Pool } from 'pg';

/** GET /cluster/nodes: the membership view every node shares, read from the projection. */
@Controller('cluster')
export class ClusterNodesController {
  constructor(@Inject(DB_POOL) private readonly pool: Pool) {}

  @Get('nodes')
  async nodes() {
    const { rows } = await this.pool.query(
      `SELECT node_id AS "nodeId", incarnation, http_url AS "httpUrl", services, state,
              joined_at AS "joinedAt", ended_at AS "endedAt"
       FROM nodes ORDER BY joined_at DESC LIMIT 200`,
    );
    return { nodes: rows };
  }
}
