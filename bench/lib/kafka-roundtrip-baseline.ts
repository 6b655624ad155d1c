import { randomUUID } from 'node:crypto';
import { createKafka } from '@quarry/eventstore';
import { Partitioners } from 'kafkajs';
import type { BenchContext } from './context';
import { envelopeLike, withDeadline, type LoadResult, type LoadSettings } from './load';
import { runConcurrently, summarize } from './stats';

/**
 * Baseline (b): raw kafkajs produce → consume on a scratch topic, producer and consumer in this
 * process. acks -1, one message per send, consumer fetches with a small maxWaitTimeInMs.
 * Latency: from send() to the consumer's eachMessage for that key; throughput: `total` sends
 * over `concurrency` lanes until the consumer has seen them all.
 */
export async function kafkaRoundTripBaseline(ctx: BenchContext, load: LoadSettings, partitions: number): Promise<LoadResult> {
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
  const waiting = new Map<string, (at: number) => void>();
  let received = 0;
  let onReceived: (() => void) | undefined;
  try {
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const joined = new Promise<void>((resolve) => {
      const off = consumer.on(consumer.events.GROUP_JOIN, () => {
        off();
        resolve();
      });
    });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const at = performance.now();
        received++;
        const key = message.key?.toString('utf8');
        const waiter = key === undefined ? undefined : waiting.get(key);
        if (waiter && key !== undefined) {
          waiting.delete(key);
          waiter(at);
        }
        onReceived?.();
      },
    });
    await withDeadline(joined, 30_000, 'the baseline consumer joining its group');

    const send = (key: string, i: number) => producer.send({ topic, acks: -1, messages: [{ key, value: envelopeLike(i) }] });
    const roundTrip = async (i: number, timeoutMs: number) => {
      const key = randomUUID();
      const arrived = new Promise<number>((resolve) => waiting.set(key, resolve));
      const t0 = performance.now();
      await send(key, i);
      try {
        return (await withDeadline(arrived, timeoutMs, 'a Kafka round trip')) - t0;
      } finally {
        waiting.delete(key);
      }
    };

    // The first round trips also wait for the partition assignment and the first fetch.
    for (let i = 0; i < load.warmup; i++) await roundTrip(i, 30_000);
    const samples: number[] = [];
    for (let i = 0; i < load.samples; i++) {
      ctx.signal.throwIfAborted();
      samples.push(await roundTrip(i, 10_000));
    }

    const target = received + load.total;
    const allReceived = new Promise<void>((resolve) => {
      onReceived = () => received >= target && resolve();
    });
    const started = performance.now();
    await runConcurrently(load.total, load.concurrency, (i) => send(`k${i}`, i).then(() => undefined), ctx.signal);
    await withDeadline(allReceived, 60_000, `consuming ${load.total} messages`);
    const throughputMs = performance.now() - started;
    return { latency: summarize(samples), perSecond: (load.total / throughputMs) * 1000, throughputMs };
  } finally {
    onReceived = undefined;
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
  }
}
