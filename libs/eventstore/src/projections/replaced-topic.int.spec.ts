import { randomUUID } from 'node:crypto';
import { appendSessions, createTestDatabase, PrivateBroker, uniqueTopicPrefix, waitFor, type TestDatabase } from '@quarry/testing';
import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { runMigrations } from '../db/migrate';
import { createKafka, ensureTopics } from '../kafka/kafka';
import { EVENT_STORE_MIGRATIONS } from '../migrations';
import { OutboxRelay } from '../outbox/outbox-relay';
import { PgEventStore } from '../store/event-store';
import { createTallyTable, tallyProjection, tallyRows } from '../test-support/tally-projection';
import { ProjectionRunner } from './projection-runner';

// QUARRY_TEST_LOG_LEVEL=debug shows the runner's and kafkajs's view when a run needs explaining.
const logger = pino({ level: process.env.QUARRY_TEST_LOG_LEVEL ?? 'silent' });
const WIPE_DEADLINE = { timeoutMs: 90_000, intervalMs: 200 };

describe('a projection whose Kafka topic is replaced (the broker data wiped; real Kafka and PostgreSQL)', () => {
  let broker: PrivateBroker;
  let db: TestDatabase;
  let kafka: Kafka;
  let prefix: string;
  let store: PgEventStore;
  let relay: OutboxRelay;
  let runner: ProjectionRunner;

  const tallyOf = async (streams: string[]) => (await tallyRows(db.pool)).filter((r) => streams.includes(r.stream_id));
  const allApplied = (streams: string[], version: number) => async () => {
    const rows = await tallyOf(streams);
    return rows.length === streams.length && rows.every((r) => r.last_version === version && r.applied === version);
  };
  const newRunner = () => new ProjectionRunner([tallyProjection], db.pool, store, kafka, prefix, logger);
  const outboxDrained = async () => (await db.pool.query('SELECT count(*)::int AS n FROM outbox')).rows[0].n === 0;
  const storedPositions = async () =>
    (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM projection_offsets WHERE projection = 'tally'`)).rows[0].n;

  /** As a node does when it starts. */
  async function createTopics() {
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, prefix, 3);
    await admin.disconnect();
  }

  async function wipeBroker() {
    await broker.kill();
    broker.wipeData();
    await broker.startAgain();
  }

  beforeAll(async () => {
    broker = await PrivateBroker.start();
    db = await createTestDatabase({ migrate: (url) => runMigrations(url, EVENT_STORE_MIGRATIONS) });
    await createTallyTable(db.pool);
    prefix = uniqueTopicPrefix();
    kafka = createKafka({ brokers: broker.brokers, clientId: 'replaced-topic-test', topicPrefix: prefix, partitions: 3 }, logger);
    await createTopics();
    store = new PgEventStore(db.pool, { nodeId: 'T1', nodeIncarnation: randomUUID() }, prefix);
    relay = new OutboxRelay(db.pool, kafka, { batchSize: 200, idleMs: 50, partitions: 3 }, logger);
    relay.start();
    runner = newRunner();
    await runner.start();
  });

  afterAll(async () => {
    await relay?.stop();
    await runner?.stop();
    await broker?.stop();
    await db?.drop();
  });

  it('a running projection applies the events appended after the wipe, and its lag returns to 0', async () => {
    const before = await appendSessions(store, 30, 4);
    await waitFor('120 events applied before the wipe', allApplied(before, 4));
    expect((await runner.lags()).tally.eventsBehind).toBe(0);

    await wipeBroker();
    const after = await appendSessions(store, 3, 2);

    await waitFor('the events appended after the wipe to be applied', allApplied(after, 2), WIPE_DEADLINE);
    await waitFor('no lag', async () => (await runner.lags()).tally.eventsBehind === 0);
    expect((await runner.lags()).tally.topicResets).toBeGreaterThan(0);
    expect(await allApplied(before, 4)()).toBe(true);
  });

  it('applies from the event store an event relayed to the old topic but not applied before the wipe, with no event after it', async () => {
    // The position restarted after the first wipe is stored once the new topic brings a batch;
    // without one the next test's case applies instead.
    await waitFor('a position stored on the topic made after the first wipe', async () => (await storedPositions()) > 0);
    await runner.stop();
    const [relayedOnly] = await appendSessions(store, 1, 3);
    await waitFor('the relay to publish it to the old topic', outboxDrained);
    expect((await runner.lags()).tally.eventsBehind).toBe(3);

    await wipeBroker();
    await createTopics();
    runner = newRunner();
    await runner.start();

    // Nothing new reaches the new topic: the positions checked on joining reveal it.
    await waitFor('the event the new topic never carried to be applied', allApplied([relayedOnly], 3), WIPE_DEADLINE);
    expect((await runner.lags()).tally).toEqual({ eventsBehind: 0, topicResets: expect.any(Number) });
    expect((await runner.lags()).tally.topicResets).toBeGreaterThan(0);

    const later = await appendSessions(store, 2, 2);
    await waitFor('the later events to be applied', allApplied(later, 2), WIPE_DEADLINE);
    await waitFor('no lag', async () => (await runner.lags()).tally.eventsBehind === 0);
    const total = (await tallyRows(db.pool)).reduce((sum, r) => sum + r.applied, 0);
    expect(total).toBe(30 * 4 + 3 * 2 + 3 + 2 * 2);
  });

  it('applies from the event store, on joining, what a topic replaced again carried while the projection held no position on it', async () => {
    // As when the node stopped after a replacement restarted its positions and before the new topic brought it a batch.
    await runner.stop();
    await db.pool.query(`DELETE FROM projection_offsets WHERE projection = 'tally'`);
    const [unpositioned] = await appendSessions(store, 1, 2);
    await waitFor('the relay to publish it', outboxDrained);

    await wipeBroker();
    await createTopics();
    runner = newRunner();
    await runner.start();

    await waitFor('the event relayed while no position was held to be applied', allApplied([unpositioned], 2), WIPE_DEADLINE);
    // Nothing showed a replacement: no position was past an end, no message came below one.
    expect((await runner.lags()).tally).toEqual({ eventsBehind: 0, topicResets: 0 });
    const later = await appendSessions(store, 2, 1);
    await waitFor('the later events to be applied', allApplied(later, 1), WIPE_DEADLINE);
    const total = (await tallyRows(db.pool)).reduce((sum, r) => sum + r.applied, 0);
    expect(total).toBe(30 * 4 + 3 * 2 + 3 + 2 * 2 + 2 + 2);
  });
});
