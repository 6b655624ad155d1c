import type { Sql } from '../db/sql';
import { namedStatement } from '../db/named-statements';
import { sqlText, sqlTextArray } from '../db/literals';

/**
 * Creates the missing rows (version 0) and locks them all, in one statement: a conflicting row is
 * "updated" to itself, which locks it and returns its latest committed version as FOR UPDATE
 * would. Sorted ids, so two batches lock in the same order.
 */
const lockText = (projection: string, streamIds: string) => `INSERT INTO projection_streams (projection, stream_id, version)
  SELECT ${projection}, s.stream_id, 0 FROM unnest(${streamIds}) AS s(stream_id)
  ON CONFLICT (projection, stream_id) DO UPDATE SET version = projection_streams.version
  RETURNING stream_id, version`;

const LOCK = namedStatement(lockText('$1', '$2::text[]'));

interface PositionRow {
  stream_id: string;
  version: number;
}

/** Sorted, so that two batches lock their rows in the same order. */
const sortedUnique = (streamIds: string[]) => [...new Set(streamIds)].sort();

/**
 * Writes the changed versions: the projection, the stream ids (text[]) and their versions (int[]),
 * as SQL. An upsert, not an UPDATE joined to the arrays: each row is found through the primary key
 * whatever the plan, where the join's generic plan (unnest counted as 10 rows, the table's size
 * unknown without statistics) read every position of the projection on every batch, a cost that
 * grew with every stream ever applied. The rows exist (the batch locked them), so it only updates.
 */
export const savePositionsText = (projection: string, streamIds: string, versions: string) => `INSERT INTO projection_streams (projection, stream_id, version)
  SELECT ${projection}, v.stream_id, v.version FROM unnest(${streamIds}, ${versions}) AS v(stream_id, version)
  ON CONFLICT (projection, stream_id) DO UPDATE SET version = EXCLUDED.version`;

const SAVE = namedStatement(savePositionsText('$1', '$2::text[]', '$3::int[]'));

/** The versions to write: stream ids and their versions. */
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
    const unique = sortedUnique(streamIds);
    if (unique.length === 0) return new StreamPositions(projection);
    const { rows } = await tx.query<PositionRow>({ ...LOCK, values: [projection, unique] });
    return StreamPositions.locked(projection, rows);
  }

  /** The same lock prepared under `name` (PREPARE), to run by `lockExecute`. */
  static lockPrepare(name: string): string {
    return `PREPARE ${name} (text, text[]) AS ${lockText('$1', '$2')}`;
  }

  /**
   * The same lock as a statement without parameters, for a batch to send with its BEGIN: the
   * statement prepared by `lockPrepare`, run with literals (undefined: no stream, nothing to
   * lock); `locked` takes its rows.
   */
  static lockExecute(name: string, projection: string, streamIds: string[]): string | undefined {
    const unique = sortedUnique(streamIds);
    return unique.length === 0 ? undefined : `EXECUTE ${name}(${sqlText(projection)}, ${sqlTextArray(unique)})`;
  }

  static locked(projection: string, rows: PositionRow[]): StreamPositions {
    const positions = new StreamPositions(projection);
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
