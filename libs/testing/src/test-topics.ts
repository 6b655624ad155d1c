import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { testEnv } from './test-env';

/** Prefixes handed out in this test file (Jest gives each file a module registry of its own). */
const issued = new Set<string>();

/** A topic prefix of the test's own, so topics and consumer groups never collide. */
export function uniqueTopicPrefix(): string {
  const prefix = `t${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  issued.add(prefix);
  return prefix;
}

/**
 * Deletes the topics and consumer groups named after the prefixes this file handed out, from the
 * shared broker (a private broker went with its test). Run after each file (tools/test): without
 * it a day of test runs left hundreds of topics, each one more partition for the broker to tend.
 * Only this file's own names go, so runs sharing the broker never touch each other's.
 */
export async function deleteIssuedTopics(): Promise<void> {
  if (issued.size === 0) return;
  const owned = (name: string) => [...issued].some((prefix) => name.startsWith(`${prefix}.`));
  const kafka = new Kafka({ clientId: 'test-topic-cleanup', brokers: testEnv().kafkaBrokers, logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter(owned);
    if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
    const topics = (await admin.listTopics()).filter(owned);
    if (topics.length) await admin.deleteTopics({ topics, timeout: 10_000 });
    issued.clear();
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
