import { STREAM_FAMILIES, topicFor } from '@quarry/contracts';
import { Kafka, logLevel, type Admin, type ConsumerConfig, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';
import { stopIdleRequestQueueLoop } from './idle-request-queue';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  topicPrefix: string;
  partitions: number;
}

// kafkajs logs retriable trouble (a coordinator still loading, a broker restarting) as ERROR and
// then retries; what finally fails reaches our code as an exception and is logged there.
const LEVELS: Record<number, 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'warn',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** Settings of a consumer that must outlive anything (the projections, the node's event feed). */
export const LASTING_CONSUMER = {
  // The broker's smallest (group.min.session.timeout.ms): a dead or restarted member's partitions move on sooner.
  sessionTimeout: 6000,
  // kafkajs heartbeats only between fetches, and then only once this much has passed: so after
  // every empty poll, i.e. every maxWaitTimeInMs.
  heartbeatInterval: 1000,
  // A fetch returns as soon as an event arrives; the wait only bounds an empty poll (10 a second
  // at 100 ms was most of an idle node's CPU). An idle consumer sends one fetch and one heartbeat
  // per wait, and each costs the node and the broker: 2 s is a third of the session timeout (the
  // usual heartbeat bound), so a member is never close to being thought dead. A rebalance is
  // noticed up to this much later.
  maxWaitTimeInMs: 2000,
  // kafkajs gives up on a consumer after its retries (a broker down for a minute); these must
  // outlive any outage, so they always restart.
  retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5000, restartOnFailure: async () => true },
} satisfies Omit<ConsumerConfig, 'groupId'>;

/**
 * How often, at most, a lasting consumer commits its resolved offsets (on the next batch after this
 * long), instead of an OffsetCommit request per batch. A member that resumes a partition is
 * delivered again what was handled since the last commit: the projections skip it by their stored
 * positions (ADR 2), the node feed's handlers are idempotent.
 */
export const KAFKA_COMMIT_MS = 1000;

/** A kafkajs client whose logs go through the node's pino logger instead of the console. */
export function createKafka(settings: KafkaSettings, logger?: Logger): Kafka {
  stopIdleRequestQueueLoop();
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, namespace, log }: LogEntry) => {
        const { message, ...extra } = log;
        // Per-request chatter (a heartbeat answered "rebalancing") is normal cluster life.
        const pinoLevel = namespace === 'Connection' ? 'debug' : (LEVELS[level] ?? 'info');
        logger?.[pinoLevel]({ kafka: namespace, ...extra }, message);
      },
  });
}

export function eventTopics(prefix: string): string[] {
  return STREAM_FAMILIES.map((family) => topicFor(family, prefix));
}

/** Creates the event topics when missing; an existing topic keeps its partition count. */
export async function ensureTopics(admin: Admin, prefix: string, partitions: number): Promise<void> {
  await createMissingTopics(admin, eventTopics(prefix), partitions);
}

/** Creates those of `topics` the broker does not have; returns the ones it created. */
export async function createMissingTopics(admin: Admin, topics: string[], partitions: number): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length === 0) return [];
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
  });
  return missing;
}
