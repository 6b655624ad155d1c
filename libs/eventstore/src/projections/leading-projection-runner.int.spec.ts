import { randomUUID } from 'node:crypto';
import { appendSessions, createTestDatabase, testEnv, uniqueTopicPrefix, waitFor, type TestDatabase } from '@quarry/testing';
import type { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import pino from 'pino';
import { runMigrations } from '../db/migrate';
import { createKafka, ensureTopics } from '../kafka/kafka';
import { EVENT_STORE_MIGRATIONS } from '../migrations';
import { OutboxRelay } from '../outbox/outbox-relay';
import { PgEventStore } from '../store/event-store';
import { createTallyTable, tallyProjection, tallyRows } from '../test-support/tally-projection';
import { LeadingProjectionRunner, projectionsLockKey } from './leading-projection-runner';
import { ProjectionRunner } from './projection-runner';

/** The backend holding an advisory lock taken with one bigint key. */
const LOCK_HOLDER = `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = $1`;

const logger = pino({ level: process.env.TEST_LOG ?? 'silent' });

/** Two "nodes" (a pool and a Kafka client each) keeping the same projection, against real PostgreSQL and Kafka. */
describe('projections kept by one node at a time (real Kafka and PostgreSQL)', () => {
  let db: TestDatabase;
  let prefix: string;
  let admin: Admin;
  let store: PgEventStore;
  let relay: OutboxRelay;
  const nodes: { pool: Pool; kafka: Kafka; leading: LeadingProjectionRunner }[] = [];
  const applied = async () => (await tallyRows(db.pool)).reduce((sum, r) => sum + r.applied, 0);

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: (url) => runMigrations(url, EVENT_STORE_MIGRATIONS) });
    await createTallyTable(db.pool);
    prefix = uniqueTopicPrefix();
    const kafka = createKafka({ brokers: testEnv().kafkaBrokers, clientId: 'leading-test', topicPrefix: prefix, partitions: 3 }, logger);
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, prefix, 3);
    store = new PgEventStore(db.pool, { nodeId: 'T0', nodeIncarnation: randomUUID() }, prefix);
    relay = new OutboxRelay(db.pool, kafka, { batchSize: 200, idleMs: 50, partitions: 3 }, logger);
    relay.start();
    for (const nodeId of ['T1', 'T2']) {
      const pool = new Pool({ connectionString: db.url, max: 4, application_name: `leading-test ${nodeId}` });
      pool.on('error', () => undefined);
      const nodeKafka = createKafka({ brokers: testEnv().kafkaBrokers, clientId: `leading-test-${nodeId}`, topicPrefix: prefix, partitions: 3 }, logger);
      const runner = new ProjectionRunner([tallyProjection], pool, new PgEventStore(pool, { nodeId, nodeIncarnation: randomUUID() }, prefix), nodeKafka, prefix, logger);
      // Tries every 200 ms, so the take-over below is quick; the node's default is PROJECTIONS_TRY_MS.
      const leading = new LeadingProjectionRunner(runner, pool, logger, undefined, 200);
      nodes.push({ pool, kafka: nodeKafka, leading });
    }
    for (const node of nodes) await node.leading.start();
  });

  afterAll(async () => {
    for (const node of nodes) await node.leading.stop();
    await relay.stop();
    await admin.disconnect();
    for (const node of nodes) await node.pool.end();
    await db.drop();
  });

  const keepers = () => nodes.filter((n) => n.leading.keeping);
  const groupMembers = async () => (await admin.describeGroups([`${prefix}.projection.tally`])).groups[0].members.length;

  it('runs one consumer in the group, on the node that holds the lock, and it applies every event', async () => {
    expect(keepers()).toHaveLength(1);
    await waitFor('one member in the projection group', async () => (await groupMembers()) === 1);
    await appendSessions(store, 5, 4);
    await waitFor('20 events applied', async () => (await applied()) === 20);
    expect(keepers()).toHaveLength(1);
  });

  it('has one keeper again when the keeper\'s lock connection dies, and goes on from the stored positions', async () => {
    const holderOfLock = async () => (await db.pool.query<{ pid: number }>(LOCK_HOLDER, [projectionsLockKey(`${prefix}.projection.tally`)])).rows[0]?.pid;
    const dead = await holderOfLock();
    // The keeper's lock connection ended, as a dead node's would be.
    expect((await db.pool.query('SELECT pg_terminate_backend($1) AS ended', [dead])).rows[0].ended).toBe(true);
    // Either node may win the freed lock (the old keeper tries again too); one keeps, in a group of one.
    await waitFor('the lock held on another connection, one keeper, alone in the group', async () => {
      const holder = await holderOfLock();
      return holder !== undefined && holder !== dead && keepers().length === 1 && (await groupMembers()) === 1;
    });
    await appendSessions(store, 5, 4);
    await waitFor('20 more events applied', async () => (await applied()) === 40);
    expect((await tallyRows(db.pool)).every((r) => r.applied === r.last_version)).toBe(true);
  });

  it('moves to the other node when the keeper stops', async () => {
    const [keeper] = keepers();
    const [other] = nodes.filter((n) => n !== keeper);
    await keeper.leading.stop();
    await waitFor('the other node to keep the projections', () => other.leading.keeping);
    await appendSessions(store, 5, 4);
    await waitFor('20 more events applied', async () => (await applied()) === 60);
    expect((await tallyRows(db.pool)).every((r) => r.applied === r.last_version)).toBe(true);
    expect(await groupMembers()).toBe(1);
  });
});
