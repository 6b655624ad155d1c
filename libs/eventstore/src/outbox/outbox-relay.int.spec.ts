import { randomUUID } from 'node:crypto';
import { topicFor } from '@quarry/contracts';
import { appendSessions, createTestDatabase, firstSeenVersions, readTopics, testEnv, uniqueTopicPrefix, waitFor, type TestDatabase } from '@quarry/testing';
import type { Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { SessionOpened, streamId } from '@quarry/contracts';
import pino from 'pino';
import { createKafka, ensureTopics } from '../kafka/kafka';
import { PgEventStore, RELAY_ASLEEP_LOCK } from '../store/event-store';

import { LINGER_AFTER_ROWS, OutboxRelay } from './outbox-relay';
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

  /** A topic prefix of the test's own, its topics created. */
  const topicsOfItsOwn = async () => {
    const ownPrefix = uniqueTopicPrefix();
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, ownPrefix, 3);
    await admin.disconnect();
    return ownPrefix;
  };

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

  it('deletes relayed rows in bulk, not a write per batch; a relay taking over from a killed one republishes those not deleted yet', async () => {
    const ownPrefix = await topicsOfItsOwn();
    const store = new PgEventStore(db.pool, { nodeId: 'T1', nodeIncarnation: randomUUID() }, ownPrefix);
    const outboxRows = async () => (await db.pool.query('SELECT count(*)::int AS n FROM outbox')).rows[0].n as number;
    const [first, second] = [0, 1].map(() => new Pool({ connectionString: db.url, max: 3 }));
    let published = 0;
    // Never idle long enough to clear on its own: only a full batch would.
    const killed = new OutboxRelay(first, kafka, { batchSize: 100, idleMs: 60_000, partitions: 3 }, logger, { published: (n) => (published += n) });
    killed.start();
    const streams = await appendSessions(store, 3, 2);
    try {
      await waitFor('the first relay to publish every row', async () => published === 6);
      expect(await outboxRows()).toBe(6);
      // A SIGKILL of its node, as PostgreSQL sees it: the leader's connection goes, and its lock with it.
      await db.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
    } finally {
      await killed.stop();
    }
    expect(await outboxRows()).toBe(6);
    const successor = new OutboxRelay(second, kafka, { batchSize: 100, idleMs: 20, partitions: 3 }, logger);
    successor.start();
    try {
      await waitFor('the successor to clear the outbox', async () => (await outboxRows()) === 0);
    } finally {
      await successor.stop();
      await Promise.all([first.end(), second.end()]);
    }
    const messages = await readTopics(testEnv().kafkaBrokers, [topicFor('session', ownPrefix)], (m) => m.length >= 12);
    expect(messages).toHaveLength(12);
    const versions = firstSeenVersions(messages);
    for (const stream of streams) expect(versions.get(stream)).toEqual([1, 2]);
  });

  it('vacuums the outbox itself once enough rows were deleted, so its reads do not walk ever more dead entries', async () => {
    const ownPrefix = await topicsOfItsOwn();
    const store = new PgEventStore(db.pool, { nodeId: 'T1', nodeIncarnation: randomUUID() }, ownPrefix);
    const vacuums = async () => Number((await db.pool.query("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'outbox'")).rows[0].vacuum_count);
    const before = await vacuums();
    const pool = new Pool({ connectionString: db.url, max: 3 });
    let vacuumed = 0;
    let published = 0;
    const relay = new OutboxRelay(pool, kafka, { batchSize: 10, idleMs: 20, partitions: 3, vacuumAfterRows: 10 }, logger, { published: (n) => (published += n), vacuumed: () => vacuumed++ });
    relay.start();
    try {
      await appendSessions(store, 10, 3);
      await waitFor('every row relayed and deleted', async () => published >= 30 && Number((await db.pool.query('SELECT count(*) AS n FROM outbox')).rows[0].n) === 0);
      await waitFor('a VACUUM of the outbox', async () => vacuumed >= 1);
    } finally {
      await relay.stop();
      await pool.end();
    }
    // PostgreSQL's own statistics say so too (they are written a moment after the VACUUM).
    await waitFor('the VACUUM in pg_stat_user_tables', async () => (await vacuums()) > before);
    expect(vacuumed).toBeLessThanOrEqual(3);
  });

  it('under load, gathers the rows that come during its linger into one Kafka request; a read of few rows does not linger', async () => {
    const ownPrefix = await topicsOfItsOwn();
    const store = new PgEventStore(db.pool, { nodeId: 'T1', nodeIncarnation: randomUUID() }, ownPrefix);
    const pool = new Pool({ connectionString: db.url, max: 3 });
    const batches: number[] = [];
    // A long linger and a long pause: what one read gathers depends on the linger alone, not on timing.
    const relay = new OutboxRelay(pool, kafka, { batchSize: 100, idleMs: 60_000, lingerMs: 8_000, partitions: 3 }, logger, { published: (n) => batches.push(n) });
    relay.start();
    try {
      // A lone event first: the relay is connected to Kafka before the rows that count come.
      await appendSessions(store, 1, 1);
      await waitFor('a first lone event relayed', async () => batches.length === 1);
      await appendSessions(store, 1, LINGER_AFTER_ROWS + 1);
      await waitFor('the busy read relayed', async () => batches.length === 2);
      // Three appends, each its own commit and NOTIFY: the first wakes the relay, which lingers.
      await appendSessions(store, 3, 1);
      await waitFor('the three relayed', async () => batches.reduce((a, b) => a + b, 0) === LINGER_AFTER_ROWS + 5);
      // That read moved fewer than LINGER_AFTER_ROWS: the next wake reads at once, well within the linger.
      await appendSessions(store, 1, 1);
      // A miss names the batches seen (a split read shows as one batch too many).
      const fourBatches = () => {
        if (batches.length !== 4) throw new Error(`batches ${JSON.stringify(batches)}`);
        return true;
      };
      await waitFor('a lone append relayed before a linger could have ended', fourBatches, { timeoutMs: 5_000 });
    } finally {
      await relay.stop();
      await pool.end();
    }
    expect(batches).toEqual([1, LINGER_AFTER_ROWS + 1, 3, 1]);
  });

  it('sleeps holding RELAY_ASLEEP_LOCK once the outbox is empty; the append that finds it asleep wakes it, and it sleeps again', async () => {
    const ownPrefix = await topicsOfItsOwn();
    const store = new PgEventStore(db.pool, { nodeId: 'T1', nodeIncarnation: randomUUID() }, ownPrefix);
    const pool = new Pool({ connectionString: db.url, max: 3 });
    const batches: number[] = [];
    // A long backup look: only the NOTIFY can wake it in time.
    const relay = new OutboxRelay(pool, kafka, { batchSize: 100, idleMs: 60_000, partitions: 3 }, logger, { published: (n) => batches.push(n) });
    const asleep = async () =>
      (await db.pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND mode = 'ExclusiveLock' AND granted AND ((classid::bigint << 32) | objid::bigint) = $1`, [RELAY_ASLEEP_LOCK])).rows[0].n === 1;
    relay.start();
    try {
      await waitFor('the relay asleep on an empty outbox', asleep);
      const publicId = randomUUID();
      // Committing on its own, as a query's appends do: it NOTIFYs only because the relay sleeps.
      await store.appendIn(db.pool, streamId('session', publicId), 'no_stream', [SessionOpened.create({ publicId, secretIdSha256: 'c'.repeat(64), userName: 'ana', database: 'default', params: {} })]);
      await waitFor('the event relayed', () => batches.length === 1, { timeoutMs: 10_000 });
      await waitFor('the relay asleep again', asleep);
    } finally {
      await relay.stop();
      await pool.end();
    }
    expect(batches).toEqual([1]);
    expect(await asleep()).toBe(false);
  });

  it('sleeps again on its new lock connection when the one it slept on is terminated, and an append still wakes it', async () => {
    const ownPrefix = await topicsOfItsOwn();
    const store = new PgEventStore(db.pool, { nodeId: 'T1', nodeIncarnation: randomUUID() }, ownPrefix);
    const pool = new Pool({ connectionString: db.url, max: 3 });
    pool.on('error', () => undefined);
    const batches: number[] = [];
    // Its backup look every 2 s (20 x 100 ms) notices the lost connection.
    const relay = new OutboxRelay(pool, kafka, { batchSize: 100, idleMs: 100, partitions: 3 }, logger, { published: (n) => batches.push(n) });
    /** The backend holding RELAY_ASLEEP_LOCK exclusively, if one does. */
    const sleeper = async () =>
      (
        await db.pool.query<{ pid: number }>(
          `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND mode = 'ExclusiveLock' AND granted AND ((classid::bigint << 32) | objid::bigint) = $1`,
          [RELAY_ASLEEP_LOCK],
        )
      ).rows[0]?.pid;
    relay.start();
    try {
      const first = await waitFor('the relay asleep', sleeper);
      await db.pool.query('SELECT pg_terminate_backend($1)', [first]);
      await waitFor('the relay asleep on another connection', async () => {
        const pid = await sleeper();
        return pid !== undefined && pid !== first;
      });
      const publicId = randomUUID();
      await store.appendIn(db.pool, streamId('session', publicId), 'no_stream', [SessionOpened.create({ publicId, secretIdSha256: 'd'.repeat(64), userName: 'ana', database: 'default', params: {} })]);
      await waitFor('the event relayed', () => batches.length === 1, { timeoutMs: 10_000 });
    } finally {
      await relay.stop();
      await pool.end();
    }
    expect(batches).toEqual([1]);
  });
});
