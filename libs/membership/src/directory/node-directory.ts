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

/** How long an UP answer is reused: a node that died meanwhile just fails to answer (503) for that long. */
const UP_REUSE_MS = 1000;
const MAX_REMEMBERED = 1024;

/**
 * Where a node incarnation can be reached and whether it is still up, from the `nodes` projection.
 * Every page of a forwarded result asks, so answers are reused: an ended incarnation never comes
 * back, an UP one is asked again after a second.
 */
@Injectable()
export class NodeDirectory {
  private readonly remembered = new Map<string, { entry: NodeEntry; at: number }>();

  constructor(@Inject(DB_POOL) private readonly pool: Pool) {}

  async find(incarnation: string): Promise<NodeEntry | undefined> {
    const known = this.remembered.get(incarnation);
    if (known && (known.entry.state !== 'UP' || Date.now() - known.at < UP_REUSE_MS)) return known.entry;
    const entry = await this.read(incarnation);
    if (entry) {
      if (this.remembered.size >= MAX_REMEMBERED) this.remembered.clear();
      this.remembered.set(incarnation, { entry, at: Date.now() });
    }
    return entry;
  }

  private async read(incarnation: string): Promise<NodeEntry | undefined> {
    const { rows } = await this.pool.query<{ node_id: string; incarnation: string; http_url: string; state: NodeEntry['state']; ended_at: Date | null }>(
      'SELECT node_id, incarnation, http_url, state, ended_at FROM nodes WHERE incarnation = $1',
      [incarnation],
    );
    const row = rows[0];
    return row && { nodeId: row.node_id, incarnation: row.incarnation, httpUrl: row.http_url, state: row.state, endedAt: row.ended_at?.toISOString() };
  }
}
