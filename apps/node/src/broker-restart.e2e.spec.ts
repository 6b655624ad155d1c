import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topicFor } from '@quarry/contracts';
import { PgEventStore, runMigrations } from '@quarry/eventstore';
import {
  appendSessions,
  createTestDatabase,
  firstSeenVersions,
  freePort,
  NodeProcess,
  readTopics,
  runKafkaScript,
  uniqueTopicPrefix,
  waitFor,
  type TestDatabase,
} from '@quarry/testing';
import { ALL_MIGRATIONS } from '@quarry/node-runtime';

/** Appends one stream of five events after another until told to stop; counts what it wrote. */
function keepAppending(store: PgEventStore) {
  const streams: string[] = [];
  let running = true;
  const done = (async () => {
    while (running) streams.push(...(await appendSessions(store, 1, 5)));
  })();
  return {
    streams,
    async stop() {
      running = false;
      await done;
    },
  };
}

describe('the broker stopped and restarted while events are appended', () => {
  let db: TestDatabase;
  let node: NodeProcess | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'quarry-broker-'));
  let ports: { port: number; controllerPort: number };

  afterAll(async () => {
    await node?.stop();
    await runKafkaScript(['stop', '--data-dir', join(dataDir, 'data')]);
    rmSync(dataDir, { recursive: true, force: true });
    await db?.drop();
  });

  it('loses nothing and keeps each stream in order', async () => {
    ports = { port: await freePort(), controllerPort: await freePort() };
    const broker = [`127.0.0.1:${ports.port}`];
    const brokerArgs = ['--port', String(ports.port), '--controller-port', String(ports.controllerPort), '--data-dir', join(dataDir, 'data')];
    await runKafkaScript(['start', ...brokerArgs]);

    db = await createTestDatabase({ migrate: (url) => runMigrations(url, ALL_MIGRATIONS) });
    const prefix = uniqueTopicPrefix();
    node = await NodeProcess.start({ nodeId: 'B1', port: await freePort(), databaseUrl: db.url, kafkaBrokers: broker, topicPrefix: prefix });
    const store = new PgEventStore(db.pool, { nodeId: 'writer', nodeIncarnation: randomUUID() }, prefix);
    const sessions = async () => (await db.pool.query('SELECT count(*)::int AS n FROM sessions')).rows[0].n as number;

    const appender = keepAppending(store);
    await waitFor('events to flow before the outage', async () => (await sessions()) >= 20);
    await runKafkaScript(['stop', '--data-dir', join(dataDir, 'data')]);
    const atOutage = appender.streams.length;
    await waitFor('appends to go on during the outage', () => appender.streams.length >= atOutage + 30);
    await runKafkaScript(['start', ...brokerArgs]);
    const atRestart = appender.streams.length;
    await waitFor('appends after the restart', () => appender.streams.length >= atRestart + 30);
    await appender.stop();
    const total = appender.streams.length;

    const outbox = async () => (await db.pool.query('SELECT count(*)::int AS n FROM outbox')).rows[0].n as number;
    await waitFor('the projection to hold every session', async () => (await sessions()) === total, { timeoutMs: 120_000 }).catch(async (error: Error) => {
      throw new Error(`${error.message}: ${await sessions()} of ${total} sessions, ${await outbox()} outbox rows\n--- B1 output ---\n${node?.process.output()}`);
    });
    const resources = await db.pool.query('SELECT count(*)::int AS n FROM session_resources');
    expect(resources.rows[0].n).toBe(total * 4);
    // Rows Kafka acknowledged are deleted in bulk once the outbox is quiet (the relay's idle time).
    await waitFor('the relayed rows deleted from the outbox', async () => (await outbox()) === 0);

    const messages = await readTopics(broker, [topicFor('session', prefix)], (m) => new Set(m.map((x) => x.envelope.eventId)).size >= total * 5);
    const versions = firstSeenVersions(messages);
    for (const stream of appender.streams) expect(versions.get(stream)).toEqual([1, 2, 3, 4, 5]);
  });
});
