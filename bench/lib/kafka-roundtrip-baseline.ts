import { randomUUID } from 'node:crypto';
import { createKafka } from '@quarry/eventstore';
import { Partitioners, type Consumer, type Producer } from 'kafkajs';
import type { BenchContext } from './context';
import { envelopeLike, withDeadline } from './load';
import { runConcurrently } from './stats';

/**
 * Baseline (b): raw kafkajs produce → consume on a scratch topic, producer and consumer in this
 * process. acks -1, one message per send, consumer fetches with a small maxWaitTimeInMs.
 * Latency: from send() to the consumer's eachMessage for that key; throughput: `total` sends
 * over `concurrency` lanes until the consumer has seen them all. Kept open so that a bench can
 * measure it in rounds between its own: the broker's JIT warms up during a run, and a baseline
 * measured only after the bench's phase would be measured on a warmer broker.
 */
export class KafkaRoundTripBaseline {
  private readonly waiting = new Map<string, (at: number) => void>();
  private received = 0;
  private onReceived: (() => void) | undefined;
  private sent = 0;

  private constructor(
    private readonly ctx: BenchContext,
    private readonly topic: string,
    private readonly producer: Producer,
    private readonly consumer: Consumer,
  ) {}

  static async open(ctx: BenchContext, partitions: number): Promise<KafkaRoundTripBaseline> {
    const topic = `${ctx.topicPrefix}.bench.kafka-roundtrip`;
    const kafka = createKafka({ brokers: ctx.brokers, clientId: `${ctx.topicPrefix}-kafka-baseline`, topicPrefix: ctx.topicPrefix, partitions });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }] });
    } finally {
      await admin.disconnect();
    }
    const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    const consumer = kafka.consumer({ groupId: `${topic}.consumer`, maxWaitTimeInMs: 10, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    const baseline = new KafkaRoundTripBaseline(ctx, topic, producer, consumer);
    ctx.defer(() => baseline.close());
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const joined = new Promise<void>((resolve) => {
      const off = consumer.on(consumer.events.GROUP_JOIN, () => {
        off();
        resolve();
      });
    });
    await consumer.run({ eachMessage: async ({ message }) => baseline.arrived(message.key?.toString('utf8')) });
    await withDeadline(joined, 30_000, 'the baseline consumer joining its group');
    return baseline;
  }

  private arrived(key: string | undefined) {
    const at = performance.now();
    this.received++;
    const waiter = key === undefined ? undefined : this.waiting.get(key);
    if (waiter && key !== undefined) {
      this.waiting.delete(key);
      waiter(at);
    }
    this.onReceived?.();
  }

  private send(key: string) {
    return this.producer.send({ topic: this.topic, acks: -1, messages: [{ key, value: envelopeLike(this.sent++) }] });
  }

  /** `count` sequential round trips, each one's latency (ms); the first ones may wait for the partition assignment. */
  async latencies(count: number, timeoutMs: number): Promise<number[]> {
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      this.ctx.signal.throwIfAborted();
      const key = randomUUID();
      const arrived = new Promise<number>((resolve) => this.waiting.set(key, resolve));
      const t0 = performance.now();
      await this.send(key);
      try {
        samples.push((await withDeadline(arrived, timeoutMs, 'a Kafka round trip')) - t0);
      } finally {
        this.waiting.delete(key);
      }
    }
    return samples;
  }

  /** `total` sends over `concurrency` lanes until the consumer has seen them all; how long (ms). */
  async throughput(total: number, concurrency: number): Promise<number> {
    const target = this.received + total;
    const allReceived = new Promise<void>((resolve) => {
      this.onReceived = () => this.received >= target && resolve();
    });
    try {
      const started = performance.now();
      await runConcurrently(total, concurrency, (i) => this.send(`k${i}`).then(() => undefined), this.ctx.signal);
      await withDeadline(allReceived, 60_000, `consuming ${total} messages`);
      return performance.now() - started;
    } finally {
      this.onReceived = undefined;
    }
  }

  private closed = false;

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onReceived = undefined;
    await this.consumer.disconnect().catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
  }
}
