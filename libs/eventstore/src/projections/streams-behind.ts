import type { Sql } from '../db/sql';
import type { Projection } from './projection';

/**
 * Streams of the projection's families whose version in the event store is past what the
 * projection applied: `applied` is 0 for a stream it never saw. A scan of `streams`, so it runs
 * only on demand (a scrape, a catch-up), never per event.
 */
const BEHIND = `
  FROM streams s
  LEFT JOIN projection_streams p ON p.projection = $1 AND p.stream_id = s.stream_id
  WHERE split_part(s.stream_id, '-', 1) = ANY($2::text[]) AND s.version > coalesce(p.version, 0)`;

/** How many events of the store the projection has not applied yet (its lag, in events). */
export async function eventsNotApplied(sql: Sql, projection: Projection): Promise<number> {
  const { rows } = await sql.query<{ lag: string }>(
    `SELECT coalesce(sum(s.version - coalesce(p.version, 0)), 0)::bigint AS lag ${BEHIND}`,
    [projection.name, projection.families],
  );
  return Number(rows[0].lag);
}

/** The streams the projection is behind on, in id order. */
export async function streamsBehind(sql: Sql, projection: Projection): Promise<string[]> {
  const { rows } = await sql.query<{ stream_id: string }>(`SELECT s.stream_id ${BEHIND} ORDER BY s.stream_id`, [
    projection.name,
    projection.families,
  ]);
  return rows.map((r) => r.stream_id);
}
