import { sqlBigint, sqlBool, sqlInt, sqlIntArray, sqlText, sqlTextArray } from '../db/literals';
import { projectionLock } from './projection-lock';
import { savePositionsText, StreamPositions, type ChangedPositions } from './stream-positions';

/**
 * A Kafka batch's statements, without parameters so that they ride its transaction's BEGIN and
 * COMMIT (inTransaction's `first` and `last`): a batch is three round trips, the BEGIN with its
 * locks and reads, the projection's own writes, the record with the COMMIT.
 */

/** Where a batch is read from and applied to. */
export interface BatchSource {
  projection: string;
  topic: string;
  partition: number;
}

/**
 * Sent with the BEGIN, in this order (as when they were statements of their own): the
 * projection's shared lock, the partition's stored Kafka position locked for the batch, and the
 * delivered streams' positions created and locked (StreamPositions), when there are any. Their
 * results, after BEGIN's: the lock's, the stored offset's, the positions' (see `openedBatch`).
 */
export function openBatch({ projection, topic, partition }: BatchSource, streamIds: string[]): string {
  const storedOffset = `SELECT next_offset FROM projection_offsets
    WHERE projection = ${sqlText(projection)} AND topic = ${sqlText(topic)} AND kafka_partition = ${sqlInt(partition)} FOR UPDATE`;
  const positions = StreamPositions.lockStatement(projection, streamIds);
  return [projectionLock(projection, 'shared'), storedOffset, ...(positions ? [positions] : [])].join('; ');
}

/** What openBatch's statements returned: the stored next offset (undefined: none yet), the locked positions. */
export function openedBatch(projection: string, opened: { rows: unknown[] }[]): { storedOffset?: string; positions: StreamPositions } {
  const [, offset, positions] = opened as [unknown, { rows: { next_offset: string }[] }, { rows: { stream_id: string; version: number }[] } | undefined];
  return { storedOffset: offset.rows[0]?.next_offset, positions: StreamPositions.locked(projection, positions?.rows ?? []) };
}

/**
 * A batch's end in one statement, sent with the COMMIT: the streams' versions it moved and the
 * partition's next offset, or, with `restart`, that offset for a topic found replaced.
 */
export function recordBatch({ projection, topic, partition }: BatchSource, changed: ChangedPositions, nextOffset: string, restart: boolean): string {
  const name = sqlText(projection);
  return `WITH positions AS (${savePositionsText(name, sqlTextArray(changed.streamIds), sqlIntArray(changed.versions))})
  INSERT INTO projection_offsets (projection, topic, kafka_partition, next_offset) VALUES (${name}, ${sqlText(topic)}, ${sqlInt(partition)}, ${sqlBigint(nextOffset)})
  ON CONFLICT (projection, topic, kafka_partition)
  DO UPDATE SET next_offset = CASE WHEN ${sqlBool(restart)} THEN EXCLUDED.next_offset ELSE GREATEST(projection_offsets.next_offset, EXCLUDED.next_offset) END,
                updated_at = now()`;
}
