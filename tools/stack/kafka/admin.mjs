// Readiness probe for a broker, through the same client library the application uses.
import kafkajs from 'kafkajs';
import { withTimeout } from '../lib/wait.mjs';

const { Kafka, logLevel } = kafkajs;

/**
 * True when `brokers` (comma-separated host:port list) accepts an admin connection and
 * answers describeCluster within `timeoutMs`. Never throws; kafkajs logging is silenced.
 */
export async function kafkaAnswers(brokers, timeoutMs = 2000) {
  try {
    const cluster = await describeCluster(brokers, timeoutMs);
    return cluster.brokers.length > 0;
  } catch {
    return false;
  }
}

/** One describeCluster round trip with no retries; throws when the broker does not answer. */
export async function describeCluster(brokers, timeoutMs = 2000) {
  const kafka = new Kafka({
    clientId: 'quarry-stack-probe',
    brokers: brokers.split(',').map((broker) => broker.trim()),
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    // kafkajs can outlive its own timeouts while a broker is half up; bound the whole exchange.
    return await withTimeout(
      (async () => {
        await admin.connect();
        return admin.describeCluster();
      })(),
      timeoutMs + 1000,
      `describeCluster on ${brokers}`,
    );
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
