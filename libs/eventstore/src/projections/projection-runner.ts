import { topicFor, type EventEnvelope } from '@quarry/contracts';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { inTransaction } from '../db/sql';
import type { PgEventStore } from '../store/event-store';
import { applyInOrder, type ApplyOutcome } from './apply-in-order';
import type { Projection } from './projection';
import { lockProjection } from './projection-lock';

export interface ProjectionHooks {
  applied?(projection: string, outcome: ApplyOutcome): void;
}

/**
 * Feeds one projection from Kafka. Every node that runs the projection joins the same consumer
 * group, so partitions spread over the nodes. Each batch is applied, and its Kafka position
 * recorded, in one PostgreSQL transaction; only then is the offset committed to Kafka. A crash
 * between the two redelivers the batch, and the position in PostgreSQL filters it out.
 */
export class ProjectionRunner {
  private consumer?: Consumer;

  constructor(
    private readonly projection: Projection,
    private readonly pool: Pool,
    private readonly store: PgEventStore,
    private readonly kafka: Kafka,
    private readonly topicPrefix: string,
    private readonly logger: Logger,
    private readonly hooks: ProjectionHooks = {},
  ) {}

  get groupId(): string {
    return `${this.topicPrefix}.projection.${this.projection.name}`;
  }

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      // The broker's smallest (group.min.session.timeout.ms): a dead node's partitions move on sooner.
      sessionTimeout: 6000,
      heartbeatInterval: 1000,
      maxWaitTimeInMs: 100,
      // kafkajs gives up on a consumer after its retries (a broker down for a minute); a
      // projection must outlive any outage, so it always restarts.
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5000, restartOnFailure: async () => true },
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({
      topics: this.projection.families.map((f) => topicFor(f, this.topicPrefix)),
      fromBeginning: true,
    });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (batch) => this.applyBatch(batch) });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }

  private async applyBatch({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale }: EachBatchPayload) {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const { topic, partition } = batch;
    const nextOffset = (BigInt(batch.lastOffset()) + 1n).toString();
    const outcome = await inTransaction(this.pool, async (tx) => {
      await lockProjection(tx, this.projection.name, 'shared');
      const stored = await tx.query<{ next_offset: string }>(
        `SELECT next_offset FROM projection_offsets WHERE projection = $1 AND topic = $2 AND kafka_partition = $3 FOR UPDATE`,
        [this.projection.name, topic, partition],
      );
      const from = BigInt(stored.rows[0]?.next_offset ?? '0');
      const fresh = batch.messages.filter((m) => BigInt(m.offset) >= from && m.value);
      const envelopes = fresh.map((m) => JSON.parse(m.value!.toString('utf8')) as EventEnvelope);
      const result = await applyInOrder(tx, this.projection, this.store, envelopes);
      await tx.query(
        `INSERT INTO projection_offsets (projection, topic, kafka_partition, next_offset) VALUES ($1, $2, $3, $4)
         ON CONFLICT (projection, topic, kafka_partition)
         DO UPDATE SET next_offset = GREATEST(projection_offsets.next_offset, EXCLUDED.next_offset), updated_at = now()`,
        [this.projection.name, topic, partition, nextOffset],
      );
      return result;
    });
    this.hooks.applied?.(this.projection.name, outcome);
    resolveOffset(batch.lastOffset());
    await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: nextOffset }] }] });
    await heartbeat();
  }
}
