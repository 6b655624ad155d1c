import { Inject, Injectable } from '@nestjs/common';
import { DB_POOL } from '@quarry/platform';
import type { Pool } from 'pg';

export interface NodeEntry {
  nodeId: string;
  incarnation: string;
  httpUrl: string;
  state: 'UP' | 'LEFT' | 'DOWN';
  endedAt?: string;
}

/** Where a node incarnation can be reached and whether it is still up, from the `nodes` projection. */
@Injectable()
export class NodeDirectory {
  constructor(@Inject(DB_POOL) private readonly pool: Pool) {}

  async find(incarnation: string): Promise<NodeEntry | undefined> {
    const { rows } = await this.pool.query<{ node_id: string; incarnation: string; http_url: string; state: NodeEntry['state']; ended_at: Date | null }>(
      'SELECT node_id, incarnation, http_url, state, ended_at FROM nodes WHERE incarnation = $1',
      [incarnation],
    );
    const row = rows[0];
    return row && { nodeId: row.node_id, incarnation: row.incarnation, httpUrl: row.http_url, state: row.state, endedAt: row.ended_at?.toISOString() };
  }
}
