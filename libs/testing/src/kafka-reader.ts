import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@quarry/contracts';
import { Kafka, logLevel } from 'kafkajs';
import { waitFor } from './wait-for';

export interface ReadMessage {
  partition: number;
  offset: string;
  key: string;
  envelope: EventEnvelope;
}

/**
 * Reads topics from the beginning with a consumer group of its own until `done(messages)`
 * holds (or the deadline passes), so a test can check what really reached the broker.
 */
export async function readTopics(
  brokers: string[],
  topics: string[],
  done: (messages: ReadMessage[]) => boolean,
  timeoutMs = 60_000,
): Promise<ReadMessage[]> {
  const kafka = new Kafka({ clientId: 'quarry-test-reader', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `test-reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const messages: ReadMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        messages.push({
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? '',
          envelope: JSON.parse(message.value!.toString()) as EventEnvelope,
        });
      },
    });
    await waitFor(`messages on ${topics.join(', ')}`, () => done(messages), { timeoutMs, intervalMs: 100 });
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

/**
 * Per stream, the versions in the order the broker holds them with republished copies dropped:
 * a stream kept its order exactly when this is 1, 2, 3, ... for every stream.
 */
export function firstSeenVersions(messages: ReadMessage[]): Map<string, number[]> {
  const byStream = new Map<string, number[]>();
  const seen = new Set<string>();
  const ordered = [...messages].sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  for (const { envelope } of ordered) {
    if (seen.has(envelope.eventId)) continue;
    seen.add(envelope.eventId);
    const versions = byStream.get(envelope.streamId) ?? [];
    versions.push(envelope.streamVersion);
    byStream.set(envelope.streamId, versions);
  }
  return byStream;
}
