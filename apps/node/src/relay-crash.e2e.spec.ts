import { randomUUID } from 'node:crypto';
import { topicFor } from '@quarry/contracts';
import { PgEventStore, RELAY_LOCK, runMigrations } from '@quarry/eventstore';
import {
  appendSessions,
  createTestDatabase,
  firstSeenVersions,
  freePort,
  NodeProcess,
  OwnedProcess,
  REBUILD_SCRIPT,
  readTopics,
  testEnv,
  uniqueTopicPrefix,
  waitFor,
  type TestDatabase,
} from '@quarry/testing';
import type { PoolClient } from 'pg';
import { ALL_MIGRATIONS } from '@quarry/node-runtime';

const STREAMS = 100;
const PER_STREAM = 100;
const TOTAL = STREAMS * PER_STREAM;

describe('a relay SIGKILLed with 10,000 events pending', () => {
  let db: TestDatabase;
  const nodes: NodeProcess[] = [];

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await db?.drop();
  });

  it('loses nothing: every event reaches Kafka in stream order and the projection applies each once', async () => {
    db = await createTestDatabase({ migrate: (url) => runMigrations(url, ALL_MIGRATIONS) });
    const prefix = uniqueTopicPrefix();
    const store = new PgEventStore(db.pool, { nodeId: 'writer', nodeIncarnation: randomUUID() }, prefix);
    const streams = await appendSessions(store, STREAMS, PER_STREAM);
    const pending = async () => (await db.pool.query('SELECT count(*)::int AS n FROM outbox')).rows[0].n as number;
    expect(await pending()).toBe(TOTAL);

    // Hold the relay lock so the node starts without publishing; releasing it starts the relay.
    const gate: PoolClient = await db.pool.connect();
    await gate.query('SELECT pg_advisory_lock($1)', [RELAY_LOCK]);
    const options = {
      nodeId: 'R1',
      port: await freePort(),
      databaseUrl: db.url,
      kafkaBrokers: testEnv().kafkaBrokers,
      topicPrefix: prefix,
      env: { QUARRY_RELAY_BATCH_SIZE: '10', QUARRY_RELAY_IDLE_MS: '50' },
    };
    const first = await NodeProcess.start(options);
    nodes.push(first);
    await gate.query('SELECT pg_advisory_unlock($1)', [RELAY_LOCK]);
    gate.release();

    await waitFor('the relay to publish a first thousand', async () => (await pending()) <= TOTAL - 1000, { intervalMs: 10 });
    await first.sigkill();
    const leftAtKill = await pending();
    expect(leftAtKill).toBeGreaterThan(0);

    nodes.push(await NodeProcess.start(options));
    await waitFor('the outbox to drain after the restart', async () => (await pending()) === 0, { timeoutMs: 120_000 });

    const messages = await readTopics(testEnv().kafkaBrokers, [topicFor('session', prefix)], (m) => new Set(m.map((x) => x.envelope.eventId)).size >= TOTAL);
    expect(new Set(messages.map((m) => m.envelope.eventId)).size).toBe(TOTAL);
    const versions = firstSeenVersions(messages);
    const inOrder = Array.from({ length: PER_STREAM }, (_, i) => i + 1);
    for (const stream of streams) expect(versions.get(stream)).toEqual(inOrder);

    // The sessions projection has one resource row per JarAdded: applied twice, the key would clash.
    const applied = async () =>
      (await db.pool.query(`SELECT (SELECT count(*) FROM sessions)::int AS sessions, (SELECT count(*) FROM session_resources)::int AS resources`)).rows[0];
    await waitFor('the projection to apply everything', async () => (await applied()).resources === STREAMS * (PER_STREAM - 1), { timeoutMs: 60_000 });
    expect(await applied()).toEqual({ sessions: STREAMS, resources: STREAMS * (PER_STREAM - 1) });
    const positions = await db.pool.query(`SELECT DISTINCT version FROM projection_streams WHERE projection = 'sessions'`);
    expect(positions.rows).toEqual([{ version: PER_STREAM }]);

    // The rebuild command, run beside the live node, gives back the same rows from the store.
    const snapshot = () => db.pool.query(`SELECT public_id, user_name, version, (SELECT array_agg(path ORDER BY version) FROM session_resources r WHERE r.public_id = s.public_id) AS paths FROM sessions s ORDER BY public_id`);
    const before = (await snapshot()).rows;
    const rebuild = new OwnedProcess('rebuild', process.execPath, [REBUILD_SCRIPT, 'sessions'], { ...process.env, DATABASE_URL: db.url, QUARRY_TOPIC_PREFIX: prefix });
    expect((await rebuild.exited).code).toBe(0);
    expect(rebuild.output()).toContain(`rebuilt sessions: ${TOTAL} events applied`);
    expect((await snapshot()).rows).toEqual(before);
  });
});
