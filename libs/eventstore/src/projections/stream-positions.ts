import type { Sql } from '../db/sql';
import { namedStatement } from '../db/named-statements';

/**
 * Creates the missing rows (version 0) and locks them all, in one statement: a conflicting row is
 * "updated" to itself, which locks it and returns its latest committed version as FOR UPDATE
 * would. Sorted ids, so two batches lock in the same order.
 */
const LOCK = namedStatement(`INSERT INTO projection_streams (projection, stream_id, version)
  SELECT $1, s.stream_id, 0 FROM unnest($2::text[]) AS s(stream_id)
  ON CONFLICT (projection, stream_id) DO UPDATE SET version = projection_streams.version
  RETURNING stream_id, version`);

/** Writes the changed versions: $1 the projection, $2 the stream ids, $3 their versions. */
export const SAVE_POSITIONS = `UPDATE projection_streams p SET version = v.version
  FROM unnest($2::text[], $3::int[]) AS v(stream_id, version)
  WHERE p.projection = $1 AND p.stream_id = v.stream_id`;

const SAVE = namedStatement(SAVE_POSITIONS);

/** The versions to write: stream ids and versions, as SAVE_POSITIONS binds them ($2, $3). */
export interface ChangedPositions {
  streamIds: string[];
  versions: number[];
}

/**
 * The last version of each stream a projection has applied, locked for the batch's transaction
 * so two consumers that briefly share a partition during a rebalance cannot both apply an event.
 */
export class StreamPositions {
  private readonly versions = new Map<string, number>();
  private readonly changed = new Set<string>();

  private constructor(readonly projection: string) {}

  static async lock(tx: Sql, projection: string, streamIds: string[]): Promise<StreamPositions> {
    const positions = new StreamPositions(projection);
    const unique = [...new Set(streamIds)].sort();
    if (unique.length === 0) return positions;
    const { rows } = await tx.query<{ stream_id: string; version: number }>({ ...LOCK, values: [projection, unique] });
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

  get changes(): ChangedPositions {
    const streamIds = [...this.changed];
    return { streamIds, versions: streamIds.map((id) => this.versions.get(id)!) };
  }

  async save(tx: Sql): Promise<void> {
    if (this.changed.size === 0) return;
    const { streamIds, versions } = this.changes;
    await tx.query({ ...SAVE, values: [this.projection, streamIds, versions] });
  }
}
