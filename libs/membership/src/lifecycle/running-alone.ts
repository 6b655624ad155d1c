import type { Pool } from 'pg';

/**
 * A node without QUARRY_CLUSTER_SECRET can neither call nor answer the others (internal routes
 * need the secret), so it may only run alone: it refuses to start while other nodes beat on the
 * same database. Checked once, at start.
 */
export async function refuseToJoinWithoutSecret(pool: Pool, self: { nodeId: string; clusterSecret?: string; downAfterMs: number }): Promise<void> {
  if (self.clusterSecret !== undefined) return;
  const { rows } = await pool.query<{ node_id: string }>(
    `SELECT DISTINCT w.node_id FROM event_writers w JOIN node_heartbeats h ON h.incarnation = w.incarnation
     WHERE w.ended_at IS NULL AND w.node_id <> $1 AND h.beat_at > now() - make_interval(secs => $2::double precision / 1000)
     ORDER BY w.node_id`,
    [self.nodeId, self.downAfterMs],
  );
  if (rows.length === 0) return;
  throw new Error(
    `QUARRY_CLUSTER_SECRET is not set, and nodes ${rows.map((r) => r.node_id).join(', ')} are running on this cluster's database: ` +
      'a node without the secret can only run alone. Give every node the same QUARRY_CLUSTER_SECRET (e.g. `openssl rand -base64 32`)',
  );
}
