import { topicFor, type EventEnvelope } from '@quarry/contracts';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Pool, PoolClient, QueryResult } from 'pg';
import type { Logger } from 'pino';
import { withTimeout } from '@quarry/platform';
import { DeferredStatements } from '../db/deferred-statements';
import { inOneRoundTrip, inTransaction, type Sql } from '../db/sql';
import { KAFKA_COMMIT_MS, LASTING_CONSUMER } from '../kafka/kafka';
import type { PgEventStore } from '../store/event-store';
import { applyInOrder, type ApplyOutcome } from './apply-in-order';
import { catchUpFromStore } from './catch-up';
import type { Projection } from './projection';
import { positionsAgainstEnds } from './positions-against-ends';
import { BATCH_NOT_AS_EXPECTED, expectedBatch, expectedPositions, openBatch, openedBatch, recordBatch, type BatchSource } from './batch-statements';
import { StreamPositions } from './stream-positions';
import { eventsNotApplied } from './streams-behind';

export interface ProjectionHooks {
  applied?(projection: string, outcome: ApplyOutcome): void;
  /** Partitions of a topic turned out replaced or truncated (their offsets started again). */
  topicReplaced?(projection: string, topic: string, partitions: number): void;
}

/** What a projection reports of itself on a scrape or a readiness check. */
export interface ProjectionLag {
  /** Events in the event store it has not applied yet. */
  eventsBehind: number;
  /** Partitions found replaced or truncated since this node started (each reset and caught up). */
  topicResets: number;
}

interface Delivered {
  offset: bigint;
  envelope: EventEnvelope;
}

type BatchResult = ApplyOutcome | 'replaced';

/** A batch applied in a transaction, and the statement that records it, sent with the COMMIT. */
interface AppliedBatch {
  result: BatchResult;
  record?: string;
}

/** What a position check after joining did: positions restarted (replaced topics), events applied from the store for partitions without one. */
interface PositionCheck {
  restarted: number;
  caughtUpUnpositioned: number;
}

const POSITION_CHECK_RETRY_MS = 1000;
/**
 * A check that has not finished by then is given up and tried again: the admin calls of a broker
 * just back (or just wiped) have been seen to hang, and a hung check would leave a replaced topic
 * that carries nothing new unnoticed for good.
 */
const POSITION_CHECK_TIMEOUT_MS = 15_000;

/**
 * Feeds projections from Kafka, through one consumer for all of them: each consumer costs an idle
 * node (and the broker) a fetch long-poll and a group heartbeat, so a node runs one runner for
 * every Kafka-fed projection it keeps, not one per projection. Every node that runs the same set
 * of projections joins the same consumer group (named after the set), so partitions spread over
 * the nodes. Each batch is applied, and its Kafka position recorded, per projection in one
 * PostgreSQL transaction of that projection's own; only once every projection of the topic has
 * applied it is the offset resolved, and committed to Kafka with the next commit (KAFKA_COMMIT_MS).
 * A crash in between redelivers the batch, and each projection's position in PostgreSQL filters
 * out what it has applied.
 *
 * Kafka is a carrier, not the truth: a topic deleted and created again (a wiped broker) starts
 * its offsets from 0 again. A stored position past the partition's end, or a message below the
 * stored position carrying an event never applied, says so; the runner then catches up from the
 * event store (what the old topic carried and the new one never will) and restarts its position.
 * A partition with no stored position shows nothing either way, so on joining the group the
 * runner then catches up from the store too.
 */
export class ProjectionRunner {
  private consumer?: Consumer;
  /** Per projection name: partitions found replaced or truncated since start. */
  private readonly topicResets = new Map<string, number>();
  private checkAgain?: NodeJS.Timeout;

  constructor(
    private readonly projections: readonly Projection[],
    private readonly pool: Pool,
    private readonly store: PgEventStore,
    private readonly kafka: Kafka,
    private readonly topicPrefix: string,
    private readonly logger: Logger,
    private readonly hooks: ProjectionHooks = {},
  ) {}

  /**
   * `<prefix>.projection.<name>` for one projection (as before one runner served several), and
   * the sorted names joined by `+` for several: nodes that run the same projections share a group.
   */
  get groupId(): string {
    return `${this.topicPrefix}.projection.${this.projections.map((p) => p.name).sort().join('+')}`;
  }

  private topicsOf(projection: Projection): string[] {
    return projection.families.map((f) => topicFor(f, this.topicPrefix));
  }

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: this.groupId, ...LASTING_CONSUMER });
    this.consumer = consumer;
    // After a (re)join, e.g. once a wiped broker is back: a replaced topic that carries no new
    // event yet would give no batch to notice it by, so the positions are checked once here.
    consumer.on(consumer.events.GROUP_JOIN, () => void this.checkPositions(consumer));
    await consumer.connect();
    await consumer.subscribe({
      topics: [...new Set(this.projections.flatMap((p) => this.topicsOf(p)))],
      fromBeginning: true,
    });
    await consumer.run({
      autoCommit: false,
      // Read by commitOffsetsIfNecessary() even with autoCommit off: commits are ours, at this pace.
      autoCommitInterval: KAFKA_COMMIT_MS,
      eachBatchAutoResolve: false,
      eachBatch: (batch) => this.applyBatch(batch),
    });
  }

  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    clearTimeout(this.checkAgain);
    await consumer?.disconnect().catch(() => undefined);
  }

  /** Each projection's lag, computed when asked (one scan of `streams` each), so an idle node does no work for it. */
  async lags(): Promise<Record<string, ProjectionLag>> {
    const lags = await Promise.all(
      this.projections.map(async (p) => [p.name, { eventsBehind: await eventsNotApplied(this.pool, p), topicResets: this.topicResets.get(p.name) ?? 0 }] as const),
    );
    return Object.fromEntries(lags);
  }

  private async applyBatch({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale }: EachBatchPayload) {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const { topic, partition } = batch;
    const nextOffset = (BigInt(batch.lastOffset()) + 1n).toString();
    const delivered = batch.messages
      .filter((m) => m.value)
      .map((m) => ({ offset: BigInt(m.offset), envelope: JSON.parse(m.value!.toString('utf8')) as EventEnvelope }));
    const streamIds = delivered.map((m) => m.envelope.streamId);
    for (const projection of this.projections.filter((p) => this.topicsOf(p).includes(topic))) {
      const source: BatchSource = { projection: projection.name, topic, partition };
      const apply = async (restart: boolean) =>
        (
          await inTransaction(
            this.pool,
            (tx, opened) => this.applyDelivered(tx, opened, source, projection, BigInt(batch.highWatermark), delivered, nextOffset, restart),
            { first: openBatch(source, streamIds), last: (applied) => applied.record },
          )
        ).result;
      let outcome: BatchResult = (await this.applyAsExpected(source, projection, delivered, nextOffset)) ?? (await apply(false));
      if (outcome === 'replaced') {
        await this.catchUpAfterReplaced(projection, topic, [partition]);
        outcome = await apply(true);
      }
      this.hooks.applied?.(projection.name, outcome as ApplyOutcome);
    }
    // Kafka's offset is only where a (re)joined member resumes; the position in PostgreSQL is the
    // truth. So it is committed at most once per KAFKA_COMMIT_MS, not once per batch: what a
    // member resumes below its stored position is skipped there (a request to the broker and a
    // wake-up less per batch).
    resolveOffset(batch.lastOffset());
    await commitOffsetsIfNecessary();
    await heartbeat();
  }

  /**
   * A batch of a projection that only writes, in one round trip, when what it will find can be
   * told from what was delivered (the common case: each stream's events follow the version it is
   * at, the stored position at or below the batch): no read before the writes. Undefined when the
   * batch does not qualify or its expectation was refused (nothing applied): the caller then
   * applies it the careful way, reading its positions first.
   */
  private async applyAsExpected(source: BatchSource, projection: Projection, delivered: Delivered[], nextOffset: string): Promise<ApplyOutcome | undefined> {
    const envelopes = delivered.map((m) => m.envelope);
    const expected = projection.writesOnly && delivered.length > 0 ? expectedPositions(envelopes) : undefined;
    if (!expected) return undefined;
    let outcome: ApplyOutcome | undefined;
    const done = await inOneRoundTrip(
      this.pool,
      async (connection) => {
        const writes = new DeferredStatements(connection);
        const positions = StreamPositions.locked(projection.name, expected.streamIds.map((stream_id, i) => ({ stream_id, version: expected.versions[i] })));
        // Every event follows its stream's position, so nothing is read from the store here.
        outcome = await applyInOrder(connection, projection, this.store, envelopes, { positions, save: async () => undefined, writes });
        return expectedBatch(source, delivered[0].offset, expected, writes, recordBatch(source, positions.changes, nextOffset, false))(connection);
      },
      BATCH_NOT_AS_EXPECTED,
    );
    return done === 'committed' ? outcome : undefined;
  }

  /** Counts and logs a replaced topic, then applies from the store what it will never carry. */
  private async catchUpAfterReplaced(projection: Projection, topic: string, partitions: number[]): Promise<void> {
    this.topicResets.set(projection.name, (this.topicResets.get(projection.name) ?? 0) + partitions.length);
    this.hooks.topicReplaced?.(projection.name, topic, partitions.length);
    this.logger.warn(
      { projection: projection.name, topic, partitions },
      'projection: Kafka topic was replaced or truncated (offsets started again); catching up from the event store and restarting its position',
    );
    // Before the position restarts: a crash in between finds the topic replaced again.
    const caughtUp = await catchUpFromStore(this.pool, this.store, projection);
    this.logger.info({ projection: projection.name, topic, caughtUp }, 'projection caught up from the event store');
  }

  /**
   * Restarts the positions found past their partition's end, after a catch-up. Never throws: a
   * broker just back may not answer yet, so a failed check is tried again (every second, for as
   * long as the consumer that joined runs), since a replaced topic that carries no new event gives
   * no batch to notice it by.
   */
  private async checkPositions(joined: Consumer, attempt = 1): Promise<void> {
    clearTimeout(this.checkAgain);
    if (joined !== this.consumer) return;
    try {
      const checked = await withTimeout(this.checkAllPositions(), POSITION_CHECK_TIMEOUT_MS, 'the position check');
      this.logger.info({ projections: this.projections.map((p) => p.name), attempt, ...checked }, 'projection: positions checked after joining the group');
    } catch (error) {
      this.logger.debug({ projections: this.projections.map((p) => p.name), attempt, err: (error as Error).message }, 'projection: positions not checked after joining; trying again');
      this.checkAgain = setTimeout(() => void this.checkPositions(joined, attempt + 1), POSITION_CHECK_RETRY_MS);
      this.checkAgain.unref();
    }
  }

  private async checkAllPositions(): Promise<PositionCheck> {
    const total: PositionCheck = { restarted: 0, caughtUpUnpositioned: 0 };
    for (const projection of this.projections) {
      const one = await this.checkPositionsOf(projection);
      total.restarted += one.restarted;
      total.caughtUpUnpositioned += one.caughtUpUnpositioned;
    }
    return total;
  }

  /**
   * Catches up and restarts one projection's positions found past their partition's end. A
   * partition without a position cannot show a replacement (a position restarted after one, and
   * the node stopped before the new topic brought it anything: the broker may be wiped again
   * meanwhile, taking what was relayed to that topic), so the projection then catches up from the
   * event store as well; it is a scan of `streams`, on joining the group only.
   */
  private async checkPositionsOf(projection: Projection): Promise<PositionCheck> {
    const { past, unpositioned } = await positionsAgainstEnds(this.pool, this.kafka, projection.name, this.topicsOf(projection));
    for (const topic of new Set(past.map((p) => p.topic))) {
      const mine = past.filter((p) => p.topic === topic);
      await this.catchUpAfterReplaced(projection, topic, mine.map((p) => p.partition));
      // Only if unchanged: a batch may have restarted it meanwhile.
      await this.pool.query(
        `DELETE FROM projection_offsets p USING unnest($3::int[], $4::bigint[]) AS r(kafka_partition, next_offset)
         WHERE p.projection = $1 AND p.topic = $2 AND p.kafka_partition = r.kafka_partition AND p.next_offset = r.next_offset`,
        [projection.name, topic, mine.map((p) => p.partition), mine.map((p) => p.nextOffset)],
      );
    }
    const caughtUpUnpositioned = past.length === 0 && unpositioned.length > 0 ? await catchUpFromStore(this.pool, this.store, projection) : 0;
    return { restarted: past.length, caughtUpUnpositioned };
  }

  /**
   * Applies a batch in `tx`, opened by openBatch's statements. Messages below the stored position
   * were applied before, unless the topic is not the one that position was taken on: then nothing
   * is applied ('replaced'), unless `restart`, which applies every message (versions still skip
   * copies) and restarts the position.
   */
  private async applyDelivered(
    tx: PoolClient,
    opened: QueryResult[],
    source: BatchSource,
    projection: Projection,
    highWatermark: bigint,
    delivered: Delivered[],
    nextOffset: string,
    restart: boolean,
  ): Promise<AppliedBatch> {
    const { storedOffset, positions } = openedBatch(projection.name, opened);
    const from = restart ? 0n : BigInt(storedOffset ?? '0');
    const below = delivered.filter((m) => m.offset < from).map((m) => m.envelope);
    if (from > highWatermark || (await this.anyNotApplied(tx, projection, below))) return { result: 'replaced' };
    const fresh = delivered.filter((m) => m.offset >= from).map((m) => m.envelope);
    // The positions and the Kafka position are recorded by one statement, sent with the COMMIT; a
    // projection that only writes sends its statements with it too.
    const deferred = projection.writesOnly ? new DeferredStatements(tx) : undefined;
    const outcome = await applyInOrder(tx, projection, this.store, fresh, { positions, save: async () => undefined, writes: deferred });
    outcome.skipped += below.length;
    return { result: outcome, record: [...(deferred?.take() ?? []), recordBatch(source, positions.changes, nextOffset, restart)].join('; ') };
  }

  /**
   * Whether a message below the stored position carries an event not applied yet: on the topic
   * the position was taken on, everything below it was applied, so this one is another topic.
   * Redelivery below the position is rare (a crash between commits), so this read rarely runs.
   */
  private async anyNotApplied(tx: Sql, projection: Projection, envelopes: EventEnvelope[]): Promise<boolean> {
    if (envelopes.length === 0) return false;
    const { rows } = await tx.query<{ stream_id: string; version: number }>(
      `SELECT stream_id, version FROM projection_streams WHERE projection = $1 AND stream_id = ANY($2::text[])`,
      [projection.name, [...new Set(envelopes.map((e) => e.streamId))]],
    );
    const applied = new Map(rows.map((r) => [r.stream_id, r.version]));
    return envelopes.some((e) => e.streamVersion > (applied.get(e.streamId) ?? 0));
  }
}
