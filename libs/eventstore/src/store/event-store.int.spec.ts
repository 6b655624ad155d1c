import { randomUUID } from 'node:crypto';
import { JarAdded, NodeJoined, SessionOpened, streamId } from '@quarry/contracts';
import { createTestDatabase, waitFor, type TestDatabase } from '@quarry/testing';
import { Pool } from 'pg';
import { ConcurrencyError } from './concurrency-error';
import { OUTBOX_CHANNEL, PgEventStore, RELAY_ASLEEP_LOCK } from './event-store';
import { EVENT_STORE_MIGRATIONS } from '../migrations';
import { runMigrations } from '../db/migrate';

const sha = 'b'.repeat(64);
const writer = { nodeId: 'L1', nodeIncarnation: randomUUID() };

function jar(publicId: string, n: number) {
  return JarAdded.create({ publicId, resourceType: 'jar', path: `/jars/${n}.jar`, sha256: sha, sizeBytes: n });
}

describe('PgEventStore (real PostgreSQL)', () => {
  let db: TestDatabase;
  let store: PgEventStore;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: (url) => runMigrations(url, EVENT_STORE_MIGRATIONS) });
    store = new PgEventStore(db.pool, writer, 'quarry');
  });
  afterAll(() => db.drop());

  it('appends, reads back in order, and writes each event to the outbox in the same transaction', async () => {
    const publicId = randomUUID();
    const stream = streamId('session', publicId);
    const opened = SessionOpened.create({ publicId, secretIdSha256: sha, userName: 'ana', database: 'default', params: {} });
    const first = await store.append(stream, 'no_stream', [opened, jar(publicId, 1)]);
    expect(first.nextExpectedVersion).toBe(2);
    await store.append(stream, 2, [jar(publicId, 2)]);

    const events = await store.readStream(stream);
    expect(events.map((e) => [e.type, e.streamVersion])).toEqual([
      ['SessionOpened', 1],
      ['JarAdded', 2],
      ['JarAdded', 3],
    ]);
    expect(events.every((e) => e.nodeId === 'L1' && e.nodeIncarnation === writer.nodeIncarnation)).toBe(true);
    expect(events[0].globalPosition! < events[2].globalPosition!).toBe(true);

    const outbox = await db.pool.query(`SELECT topic, message_key, envelope FROM outbox WHERE message_key = $1 ORDER BY outbox.id`, [stream]);
    // Each outbox row carries the whole stored envelope, its version and global position included.
    expect(outbox.rows.map((r) => r.envelope)).toEqual(events);
    expect(new Set(outbox.rows.map((r) => r.topic))).toEqual(new Set(['quarry.session.events']));
  });

  it('lets exactly one of two connections win the same expected version; versions stay gapless', async () => {
    // Two pools: two real connections racing, not one connection serialising them.
    const otherPool = new Pool({ connectionString: db.url, max: 2 });
    const other = new PgEventStore(otherPool, { nodeId: 'L2', nodeIncarnation: randomUUID() }, 'quarry');
    const publicId = randomUUID();
    const stream = streamId('session', publicId);
    await store.append(stream, 'no_stream', [SessionOpened.create({ publicId, secretIdSha256: sha, userName: 'ana', database: 'default', params: {} })]);
    try {
      let version = 1;
      for (let round = 0; round < 25; round++) {
        const outcomes = await Promise.allSettled([store.append(stream, version, [jar(publicId, round)]), other.append(stream, version, [jar(publicId, round)])]);
        const won = outcomes.filter((o) => o.status === 'fulfilled');
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0].reason).toBeInstanceOf(ConcurrencyError);
        expect(lost[0].reason).toMatchObject({ streamId: stream, expectedVersion: version, actualVersion: version + 1 });
        version++;
      }
      const versions = (await store.readStream(stream)).map((e) => e.streamVersion);
      expect(versions).toEqual(Array.from({ length: 26 }, (_, i) => i + 1));
    } finally {
      await otherPool.end();
    }
  });

  it('refuses a stale or future expected version and a second creation', async () => {
    const publicId = randomUUID();
    const stream = streamId('session', publicId);
    await store.append(stream, 'no_stream', [jar(publicId, 1), jar(publicId, 2)]);
    await expect(store.append(stream, 1, [jar(publicId, 3)])).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(store.append(stream, 5, [jar(publicId, 3)])).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(store.append(stream, 'no_stream', [jar(publicId, 3)])).rejects.toBeInstanceOf(ConcurrencyError);
    const any = await store.append(stream, 'any', [jar(publicId, 3)]);
    expect(any.nextExpectedVersion).toBe(3);
    expect(await store.currentVersion(db.pool, stream)).toBe(3);
  });

  it('refuses an event of another family or with a bad payload, and leaves nothing behind', async () => {
    const publicId = randomUUID();
    const stream = streamId('session', publicId);
    const nodeEvent = NodeJoined.create({ nodeId: 'L1', incarnation: randomUUID(), httpUrl: 'http://127.0.0.1:1', services: ['session'] });
    await expect(store.append(stream, 'no_stream', [nodeEvent])).rejects.toThrow('belongs to node streams');
    await expect(store.append(stream, 'no_stream', [{ type: 'JarAdded', payload: { publicId } }])).rejects.toThrow();
    await expect(store.append('cart-1', 'any', [jar(publicId, 1)])).rejects.toThrow('known family');
    const left = await db.pool.query('SELECT count(*)::int AS n FROM events WHERE stream_id = $1', [stream]);
    expect(left.rows[0].n).toBe(0);
    expect(await store.currentVersion(db.pool, stream)).toBe(0);
  });

  it('reads all events in global order after a position', async () => {
    const all = await store.readAll(0, 10_000);
    const positions = all.map((e) => e.globalPosition!);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    const tail = await store.readAll(positions[2], 2);
    expect(tail.map((e) => e.globalPosition)).toEqual(positions.slice(3, 5));
  });

  it('an append committing on its own NOTIFYs the outbox relay only while the relay sleeps (holds RELAY_ASLEEP_LOCK)', async () => {
    const relay = await db.pool.connect();
    const heard: string[] = [];
    relay.on('notification', (message) => heard.push(message.channel));
    await relay.query(`LISTEN ${OUTBOX_CHANNEL}`);
    // Every statement the store sends through the pool, the NOTIFYs after a commit included (sent for real).
    const query = jest.spyOn(db.pool, 'query');
    const notifyStatements = () => query.mock.calls.filter(([config]) => (config as { name?: string }).name === 'quarry-notify').length;
    const openSession = () => {
      const publicId = randomUUID();
      return store.appendIn(db.pool, streamId('session', publicId), 'no_stream', [SessionOpened.create({ publicId, secretIdSha256: sha, userName: 'ana', database: 'default', params: {} })]);
    };
    try {
      // Awake (nobody holds the lock): no NOTIFY, not even a statement for one.
      await openSession();
      await new Promise((resolve) => setImmediate(resolve));
      expect(notifyStatements()).toBe(0);

      // Asleep: the append wakes it.
      await relay.query('SELECT pg_advisory_lock($1)', [RELAY_ASLEEP_LOCK]);
      await openSession();
      await waitFor('the sleeping relay to hear the append', () => heard.length === 1);
      expect(notifyStatements()).toBe(1);
      expect(heard).toEqual([OUTBOX_CHANNEL]);
      await relay.query('SELECT pg_advisory_unlock($1)', [RELAY_ASLEEP_LOCK]);
    } finally {
      query.mockRestore();
      relay.release(true);
    }
  });

  it('a notice only some listen for (onlyIfHeard) goes only while a listener holds its interest, and the relay\'s still goes while it sleeps', async () => {
    const listener = await db.pool.connect();
    const heard: string[] = [];
    listener.on('notification', (message) => heard.push(`${message.channel}:${message.payload}`));
    await listener.query('LISTEN quarry_test_finished');
    const interest = { classId: 7, key: randomUUID() };
    const query = jest.spyOn(db.pool, 'query');
    const notifyStatements = () => query.mock.calls.filter(([config]) => (config as { name?: string }).name === 'quarry-notify').length;
    const openSession = () => {
      const publicId = randomUUID();
      const opened = SessionOpened.create({ publicId, secretIdSha256: sha, userName: 'ana', database: 'default', params: {} });
      return store.appendIn(db.pool, streamId('session', publicId), 'no_stream', [opened], { notify: [{ channel: 'quarry_test_finished', payload: interest.key, onlyIfHeard: interest }] });
    };
    try {
      // Nobody listens (and the relay is awake): no NOTIFY statement at all.
      await openSession();
      await new Promise((resolve) => setImmediate(resolve));
      expect(notifyStatements()).toBe(0);

      await listener.query('SELECT pg_advisory_lock_shared($1::int, hashtext($2::text))', [interest.classId, interest.key]);
      await openSession();
      await waitFor('the listener to hear it', () => heard.length === 1);
      expect(heard).toEqual([`quarry_test_finished:${interest.key}`]);
      expect(notifyStatements()).toBe(1);
    } finally {
      query.mockRestore();
      listener.release(true);
    }
  });
});
