import type { QuarryEvent } from '@quarry/contracts';
import type { Projection, Sql } from '@quarry/eventstore';

export const nodesProjection: Projection = {
  name: 'nodes',
  families: ['node'],
  tables: ['nodes'],
  async apply(tx: Sql, event: QuarryEvent) {
    switch (event.type) {
      case 'NodeJoined':
        await tx.query(
          `INSERT INTO nodes (node_id, incarnation, http_url, services, state, joined_at)
           VALUES ($1, $2, $3, $4, 'UP', $5) ON CONFLICT (node_id, incarnation) DO NOTHING`,
          [event.payload.nodeId, event.payload.incarnation, event.payload.httpUrl, event.payload.services, event.occurredAt],
        );
        return;
      case 'NodeLeft':
      case 'NodeDown':
        await tx.query(
          `UPDATE nodes SET state = $3, ended_at = $4 WHERE node_id = $1 AND incarnation = $2 AND state = 'UP'`,
          [event.payload.nodeId, event.payload.incarnation, event.type === 'NodeLeft' ? 'LEFT' : 'DOWN', event.occurredAt],
        );
        return;
    }
  },
};
