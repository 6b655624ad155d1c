import { randomUUID } from 'node:crypto';
import { topicFor } from '@quarry/contracts';
import { appendSessions, createTestDatabase, testEnv, uniqueTopicPrefix, waitFor, type TestDatabase } from '@quarry/testing';
import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { createKafka, ensureTopics } from '../kafka/kafka';
import { OutboxRelay } from '../outbox/outbox-relay';
import { PgEventStore } from '../store/event-store';

import { createCheckedTallyTable, createTallyTable, tallyProjection, tallyRows, writesOnlyTallyProjectionOf } from '../test-support/tally-projection';
import { ProjectionRunner } from './projection-runner';
import { rebuildProjection } from './rebuild-projection';
import { EVENT_STORE_MIGRATIONS } from '../migrations';
import { runMigrations } from '../db/migrate';

const logger = pino({ level: 'silent' });

describe('projection runner (real Kafka and PostgreSQL)', () => {
  let db: TestDatabase;
  let kafka: Kafka;
  let prefix: string;
  let store: PgEventStore;
  let runner: ProjectionRunner;
  const relays: OutboxRelay[] = [];

  // A second projection of the same family, fed by the same runner (one consumer for both); it
  // only writes, so its statements go with each batch's COMMIT, and its table's check fails any
  // duplicate, gap or reordering after a stream's first event.
  const copyProjection = writesOnlyTallyProjectionOf('tally_copy', 'stream_tally_copy');
  const totalApplied = async () => (await tallyRows(db.pool)).reduce((sum, r) => sum + r.applied, 0);

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: (url) => runMigrations(url, EVENT_STORE_MIGRATIONS) });
    await createTallyTable(db.pool);
    await createCheckedTallyTable(db.pool, 'stream_tally_copy');
    prefix = uniqueTopicPrefix();
    kafka = createKafka({ brokers: testEnv().kafkaBrokers, clientId: 'runner-test', topicPrefix: prefix, partitions: 3 }, logger);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, prefix, 3);
    await admin.disconnect();
    store = new PgEventStore(db.pool, { nodeId: 'T1', nodeIncarnation: randomUUID() }, prefix);
    runner = new ProjectionRunner([tallyProjection, copyProjection], db.pool, store, kafka, prefix, logger);
    await runner.start();
  });

  afterAll(async () => {
    await Promise.all(relays.map((r) => r.stop()));
    await runner.stop();
    await db.drop();
  });

  function startRelay() {
    const relay = new OutboxRelay(db.pool, kafka, { batchSize: 200, idleMs: 50, partitions: 3 }, logger);
    relays.push(relay);
    relay.start();
    return relay;
  }

  it('fills a gap from the event store when an event never reached Kafka', async () => {
    const [stream] = await appendSessions(store, 1, 4);
    // Version 2 vanishes from the outbox before any relay runs: Kafka will carry 1, 3, 4 only.
    await db.pool.query(`DELETE FROM outbox WHERE message_key = $1 AND (envelope->>'streamVersion')::int = 2`, [stream]);
    startRelay();
    const rows = await waitFor('the stream to be applied', async () => {
      const tally = (await tallyRows(db.pool)).find((r) => r.stream_id === stream);
      return tally?.last_version === 4 ? tally : undefined;
    });
    expect(rows.applied).toBe(4);
  });

  it('applies each event exactly once when Kafka delivers copies again', async () => {
    const streams = await appendSessions(store, 20, 10);
    await waitFor('200 more events applied', async () => (await totalApplied()) === 204);
    // Republish everything the store holds, as a relay that crashed before deleting would.
    const producer = kafka.producer();
    await producer.connect();
    const all = await store.readAll(0, 10_000);
    await producer.send({ topic: topicFor('session', prefix), messages: all.map((e) => ({ key: e.streamId, value: JSON.stringify(e) })) });
    const marker = await appendSessions(store, 1, 1);
    await waitFor('the marker after the copies', async () => (await tallyRows(db.pool)).some((r) => r.stream_id === marker[0]));
    await producer.disconnect();

    const tally = await tallyRows(db.pool);
    for (const stream of streams) expect(tally.find((r) => r.stream_id === stream)).toMatchObject({ applied: 10, last_version: 10 });
    expect(await totalApplied()).toBe(205);
    // The same consumer fed the other projection of the topic, each event once there too.
    await waitFor('the copy to reach the marker', async () => (await tallyRows(db.pool, 'stream_tally_copy')).some((r) => r.stream_id === marker[0]));
    expect(await tallyRows(db.pool, 'stream_tally_copy')).toEqual(tally);
    expect(runner.groupId).toBe(`${prefix}.projection.tally+tally_copy`);
    expect(await runner.lags()).toEqual({ tally: { eventsBehind: 0, topicResets: 0 }, tally_copy: { eventsBehind: 0, topicResets: 0 } });
  });

  it('rebuilds from scratch to the same rows, and keeps applying new events afterwards', async () => {
    const before = await tallyRows(db.pool);
    const applied = await rebuildProjection(db.pool, store, tallyProjection);
    expect(applied).toBe(205);
    expect(await tallyRows(db.pool)).toEqual(before);

    const [later] = await appendSessions(store, 1, 3);
    await waitFor('an event after the rebuild', async () => (await tallyRows(db.pool)).find((r) => r.stream_id === later)?.last_version === 3);
    expect(await totalApplied()).toBe(208);
  });
});
