import type { QueryResult } from 'pg';
import type { DeferredStatements } from '../db/deferred-statements';
import { sqlBigint, sqlBool, sqlInt, sqlIntArray, sqlText, sqlTextArray } from '../db/literals';
import { projectionLockKey, sharedLockPrepare } from './projection-lock';
import { savePositionsText, StreamPositions, type ChangedPositions } from './stream-positions';

/**
 * A Kafka batch's statements, without parameters so that they ride its transaction's BEGIN and
 * COMMIT (inTransaction's `first` and `last`): a batch is three round trips, the BEGIN with its
 * locks and reads, the projection's own writes, the record with the COMMIT. The reads and the
 * record are prepared once per connection (PREPARE, sent with the connection's first batch) and
 * run by EXECUTE with literals: planned from their prepared form, not parsed and planned again on
 * every batch as literal statements were (ADR 11, "Events, third pass").
 */

/** Where a batch is read from and applied to. */
export interface BatchSource {
  projection: string;
  topic: string;
  partition: number;
}

const LOCK = 'quarry_batch_lock';
const OFFSET = 'quarry_batch_offset';
const POSITIONS = 'quarry_batch_positions';
const RECORD = 'quarry_batch_record';
const EXPECT = 'quarry_batch_expect';

/** The projection's shared lock, prepared (PREPARE_BATCH). */
const sharedLock = (projection: string) => `EXECUTE ${LOCK}(${projectionLockKey(projection)})`;

/** The record: the streams' versions the batch moved, the partition's next offset (or, restarting, that offset). */
const recordText = (projection: string, streamIds: string, versions: string, topic: string, partition: string, nextOffset: string, restart: string) =>
  `WITH positions AS (${savePositionsText(projection, streamIds, versions)})
  INSERT INTO projection_offsets (projection, topic, kafka_partition, next_offset) VALUES (${projection}, ${topic}, ${partition}, ${nextOffset})
  ON CONFLICT (projection, topic, kafka_partition)
  DO UPDATE SET next_offset = CASE WHEN ${restart} THEN EXCLUDED.next_offset ELSE GREATEST(projection_offsets.next_offset, EXCLUDED.next_offset) END,
                updated_at = now()`;

const PREPARE_BATCH = [
  sharedLockPrepare(LOCK),
  `PREPARE ${OFFSET} (text, text, int) AS SELECT next_offset FROM projection_offsets WHERE projection = $1 AND topic = $2 AND kafka_partition = $3 FOR UPDATE`,
  StreamPositions.lockPrepare(POSITIONS),
  `PREPARE ${RECORD} (text, text[], int[], text, int, bigint, boolean) AS ${recordText('$1', '$2', '$3', '$4', '$5', '$6', '$7')}`,
  `PREPARE ${EXPECT} (text, text, int, bigint, text[], int[]) AS SELECT quarry_projection_batch_expect($1, $2, $3, $4, $5, $6)`,
].join('; ');

/**
 * Connections that have the batch's statements prepared. A PREPARE is the connection's until it
 * closes, whatever becomes of the transaction it was sent in, so a connection is marked as it is
 * sent; one whose PREPARE failed is not kept (see inTransaction: prepared statements unknown).
 */
const prepared = new WeakSet<object>();

/**
 * Sent with the BEGIN, in this order (as when they were statements of their own): the
 * projection's shared lock, the partition's stored Kafka position locked for the batch, and the
 * delivered streams' positions created and locked (StreamPositions), when there are any; on a
 * connection's first batch, the PREPAREs before them. Their results, after BEGIN's: see `openedBatch`.
 */
export function openBatch({ projection, topic, partition }: BatchSource, streamIds: string[]): (connection: object) => string {
  const storedOffset = `EXECUTE ${OFFSET}(${sqlText(projection)}, ${sqlText(topic)}, ${sqlInt(partition)})`;
  const positions = StreamPositions.lockExecute(POSITIONS, projection, streamIds);
  const statements = [sharedLock(projection), storedOffset, ...(positions ? [positions] : [])];
  return (connection) => {
    if (prepared.has(connection)) return statements.join('; ');
    prepared.add(connection);
    return [PREPARE_BATCH, ...statements].join('; ');
  };
}

/** What openBatch's statements returned: the stored next offset (undefined: none yet), the locked positions. */
export function openedBatch(projection: string, opened: QueryResult[]): { storedOffset?: string; positions: StreamPositions } {
  const [, offset, positions] = opened.filter((result) => result.command !== 'PREPARE') as unknown as [
    unknown,
    { rows: { next_offset: string }[] },
    { rows: { stream_id: string; version: number }[] } | undefined,
  ];
  return { storedOffset: offset.rows[0]?.next_offset, positions: StreamPositions.locked(projection, positions?.rows ?? []) };
}

/**
 * A batch's end in one statement, sent with the COMMIT: the streams' versions it moved and the
 * partition's next offset, or, with `restart`, that offset for a topic found replaced.
 */
export function recordBatch({ projection, topic, partition }: BatchSource, changed: ChangedPositions, nextOffset: string, restart: boolean): string {
  return `EXECUTE ${RECORD}(${[sqlText(projection), sqlTextArray(changed.streamIds), sqlIntArray(changed.versions), sqlText(topic), sqlInt(partition), sqlBigint(nextOffset), sqlBool(restart)].join(', ')})`;
}

/** SQLSTATE of quarry_projection_batch_expect: the batch did not find what it expected. */
export const BATCH_NOT_AS_EXPECTED = 'QY001';

/**
 * A batch in one round trip (inOneRoundTrip), for when what it will find can be told from what
 * was delivered: the stored Kafka position at or below `firstOffset`, each stream's applied
 * version as `expected` says (sorted ids). Sent after its BEGIN, on a connection's first batch
 * the batch's PREPAREs, then the projection's own PREPAREs (before anything that may refuse: a
 * PREPARE outlives a rolled-back transaction, and the connection is marked as having them), the
 * shared lock, the expectation (which locks what openBatch's statements lock, and raises
 * BATCH_NOT_AS_EXPECTED when anything differs), the projection's writes, the record.
 */
export function expectedBatch(source: BatchSource, firstOffset: bigint, expected: ChangedPositions, writes: DeferredStatements, record: string): (connection: object) => string {
  const { projection, topic, partition } = source;
  const expectation = `EXECUTE ${EXPECT}(${[sqlText(projection), sqlText(topic), sqlInt(partition), sqlBigint(firstOffset.toString()), sqlTextArray(expected.streamIds), sqlIntArray(expected.versions)].join(', ')})`;
  return (connection) => {
    const { prepares, executes } = writes.takeApart();
    const batchPrepares = prepared.has(connection) ? [] : [PREPARE_BATCH];
    prepared.add(connection);
    return [...batchPrepares, ...prepares, sharedLock(projection), expectation, ...executes, record].join('; ');
  };
}

/**
 * The positions a batch expects to find when each stream's delivered events follow one another
 * (sorted ids; the version below each stream's first delivered event); undefined when some do
 * not (a repeat, a gap): such a batch must read its positions first.
 */
export function expectedPositions(delivered: readonly { streamId: string; streamVersion: number }[]): ChangedPositions | undefined {
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  for (const { streamId, streamVersion } of delivered) {
    const previous = last.get(streamId);
    if (previous !== undefined && streamVersion !== previous + 1) return undefined;
    if (previous === undefined) first.set(streamId, streamVersion);
    last.set(streamId, streamVersion);
  }
  const sorted = [...first].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { streamIds: sorted.map(([id]) => id), versions: sorted.map(([, version]) => version - 1) };
}
