import type { Sql } from '../db/sql';

/**
 * The last version of each stream a projection has applied, locked for the batch's transaction
 * so two consumers that briefly share a partition during a rebalance cannot both apply an event.
 */
export class StreamPositions {
  private readonly versions = new Map<string, number>();
  private readonly changed = new Set<string>();

  private constructor(private readonly projection: string) {}

  static async lock(tx: Sql, projection: string, streamIds: string[]): Promise<StreamPositions> {
    const positions = new StreamPositions(projection);
    const unique = [...new Set(streamIds)].sort();
    // Create missing rows first so FOR UPDATE has something to lock; sorted to avoid deadlocks.
    await tx.query(
      `INSERT INTO projection_streams (projection, stream_id, version)
       SELECT $1, unnest($2::text[]), 0 ON CONFLICT DO NOTHING`,
      [projection, unique],
    );
    const { rows } = await tx.query<{ stream_id: string; version: number }>(
      `SELECT stream_id, version FROM projection_streams
       WHERE projection = $1 AND stream_id = ANY($2::text[]) ORDER BY stream_id FOR UPDATE`,
      [projection, unique],
    );
    for (const row of rows) positions.versions.set(row.stream_id, row.version);
    return positions;
  }

  versionOf(streamId: string): number {
    return this.versions.get(streamId) ?? 0;
  }

  advance(streamId: string, version: number): void {
    this.versions.set(streamId, version);
    this.changed.add(streamId);
  }

  async save(tx: Sql): Promise<void> {
    if (this.changed.size === 0) return;
    const ids = [...this.changed];
    await tx.query(
      `UPDATE projection_streams p SET version = v.version
       FROM unnest($2::text[], $3::int[]) AS v(stream_id, version)
       WHERE p.projection = $1 AND p.stream_id = v.stream_id`,
      [this.projection, ids, ids.map((id) => this.versions.get(id))],
    );
  }
}
