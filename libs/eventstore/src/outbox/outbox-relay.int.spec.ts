import { randomUUID } from 'node:crypto';
import { topicFor } from '@quarry/contracts';
import { appendSessions, createTestDatabase, firstSeenVersions, readTopics, testEnv, uniqueTopicPrefix, waitFor, type TestDatabase } from '@quarry/testing';
import type { Kafka } from 'kafkajs';
import { Pool } from 'pg';
import pino from 'pino';
import { createKafka, ensureTopics } from '../kafka/kafka';
import { PgEventStore } from '../store/event-store';

import { OutboxRelay } from './outbox-relay';
import { EVENT_STORE_MIGRATIONS } from '../migrations';
import { runMigrations } from '../db/migrate';

const logger = pino({ level: 'silent' });

describe('outbox relay (real Kafka and PostgreSQL)', () => {
  let db: TestDatabase;
  let kafka: Kafka;
  let prefix: string;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: (url) => runMigrations(url, EVENT_STORE_MIGRATIONS) });
    prefix = uniqueTopicPrefix();
    kafka = createKafka({ brokers: testEnv().kafkaBrokers, clientId: 'relay-test', topicPrefix: prefix, partitions: 3 }, logger);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, prefix, 3);
    await admin.disconnect();
  });
  afterAll(() => db.drop());

  it('with relays on three "nodes" at once, publishes every row exactly once, each stream in order', async () => {
    const store = new PgEventStore(db.pool, { nodeId: 'T1', nodeIncarnation: randomUUID() }, prefix);
    const streams = await appendSessions(store, 100, 20);
    const pools = [0, 1, 2].map(() => new Pool({ connectionString: db.url, max: 3 }));
    const relays = pools.map((pool) => new OutboxRelay(pool, kafka, { batchSize: 100, idleMs: 20, partitions: 3 }, logger));
    relays.forEach((r) => r.start());
    try {
      await waitFor('the outbox to drain', async () => (await db.pool.query('SELECT count(*)::int AS n FROM outbox')).rows[0].n === 0);
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
      await Promise.all(pools.map((p) => p.end()));
    }

    const topic = topicFor('session', prefix);
    const messages = await readTopics(testEnv().kafkaBrokers, [topic], (m) => m.length >= 2000);
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    const onBroker = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);

    expect(onBroker).toBe(2000);
    expect(new Set(messages.map((m) => m.envelope.eventId)).size).toBe(2000);
    const versions = firstSeenVersions(messages);
    for (const stream of streams) expect(versions.get(stream)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(messages.every((m) => m.key === m.envelope.streamId)).toBe(true);
  });
});
