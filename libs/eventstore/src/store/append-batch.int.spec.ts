import { randomUUID } from 'node:crypto';
import { JarAdded, SessionOpened, streamId } from '@quarry/contracts';
import { createTestDatabase, type TestDatabase } from '@quarry/testing';
import { ConcurrencyError, WriterFenced } from './concurrency-error';
import { PgEventStore } from './event-store';
import { EVENT_STORE_MIGRATIONS } from '../migrations';
import { runMigrations } from '../db/migrate';
import { inTransaction } from '../db/sql';

const sha = 'd'.repeat(64);
const opened = (publicId: string) => SessionOpened.create({ publicId, secretIdSha256: sha, userName: 'ana', database: 'default', params: {} });
const jar = (publicId: string, n: number) => JarAdded.create({ publicId, resourceType: 'jar', path: `/jars/${n}.jar`, sha256: sha, sizeBytes: n });

/** Appends that commit on their own, sent at once by one node: they share commits (AppendBatcher). */
describe('group commit of appends (real PostgreSQL)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: (url) => runMigrations(url, EVENT_STORE_MIGRATIONS) });
  });
  afterAll(() => db.drop());

  const storeOf = async (nodeId: string) => {
    const fenced: WriterFenced[] = [];
    const store = new PgEventStore(db.pool, { nodeId, nodeIncarnation: randomUUID() }, 'quarry', undefined, (error) => fenced.push(error));
    await inTransaction(db.pool, (tx) => store.startWriter(tx, nodeId));
    return { store, fenced };
  };

  /** Transactions that wrote the events of these streams (xmin: one per commit). */
  const commitsOf = async (streams: string[]) =>
    (await db.pool.query<{ n: number }>('SELECT count(DISTINCT xmin::text)::int AS n FROM events WHERE stream_id = ANY($1)', [streams])).rows[0].n;

  it('appends sent together share commits, each with its own versions, positions and outbox rows', async () => {
    const { store } = await storeOf('L1');
    const ids = Array.from({ length: 20 }, () => randomUUID());
    const streams = ids.map((id) => streamId('session', id));
    // The first goes at once; the 19 that come while it is on its way go in one statement.
    const results = await Promise.all(ids.map((id, i) => store.append(streams[i], 'no_stream', [opened(id), jar(id, i)])));
    expect(await commitsOf(streams)).toBe(2);
    for (const [i, result] of results.entries()) {
      expect(result.nextExpectedVersion).toBe(2);
      expect(result.events.map((e) => [e.streamId, e.streamVersion])).toEqual([
        [streams[i], 1],
        [streams[i], 2],
      ]);
      const stored = await store.readStream(streams[i]);
      expect(stored.map((e) => [e.eventId, e.streamVersion, e.globalPosition])).toEqual(result.events.map((e) => [e.eventId, e.streamVersion, e.globalPosition]));
    }
    const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE message_key = ANY($1)`, [streams]);
    expect(rows[0].n).toBe(40);
  });

  it('one append whose stream moved fails alone; the others of its statement land', async () => {
    const { store } = await storeOf('L2');
    const stale = randomUUID();
    await store.append(streamId('session', stale), 'no_stream', [opened(stale)]);
    const ids = Array.from({ length: 6 }, () => randomUUID());
    const outcomes = await Promise.allSettled([
      store.append(streamId('session', randomUUID()), 'no_stream', [opened(randomUUID())]),
      ...ids.map((id) => store.append(streamId('session', id), 'no_stream', [opened(id)])),
      // Expects version 5 of a stream at version 1.
      store.append(streamId('session', stale), 5, [jar(stale, 1)]),
    ]);
    const failed = outcomes.filter((o) => o.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect((failed[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
    expect(((failed[0] as PromiseRejectedResult).reason as ConcurrencyError).actualVersion).toBe(1);
    expect(await commitsOf(ids.map((id) => streamId('session', id)))).toBe(1);
    expect((await store.readStream(streamId('session', stale))).map((e) => e.type)).toEqual(['SessionOpened']);
  });

  it('two appends to one stream sent together go in order, in different statements', async () => {
    const { store } = await storeOf('L3');
    const id = randomUUID();
    const stream = streamId('session', id);
    const [first, second] = await Promise.all([store.append(stream, 'no_stream', [opened(id)]), store.append(stream, 1, [jar(id, 1)])]);
    expect([first.nextExpectedVersion, second.nextExpectedVersion]).toEqual([1, 2]);
    expect((await store.readStream(stream)).map((e) => e.type)).toEqual(['SessionOpened', 'JarAdded']);
  });

  it('an ended writer gets nothing of a statement in: every append of it is refused', async () => {
    const ghost = await storeOf('L4');
    const survivor = await storeOf('L5');
    await inTransaction(db.pool, (tx) => survivor.store.endWriter(tx, ghost.store.writerIncarnation, 'node-down'));
    const ids = Array.from({ length: 5 }, () => randomUUID());
    const outcomes = await Promise.allSettled(ids.map((id) => ghost.store.append(streamId('session', id), 'no_stream', [opened(id)])));
    expect(outcomes.every((o) => o.status === 'rejected' && o.reason instanceof WriterFenced)).toBe(true);
    expect(ghost.fenced.length).toBe(5);
    const { rows } = await db.pool.query('SELECT 1 FROM streams WHERE stream_id = ANY($1)', [ids.map((id) => streamId('session', id))]);
    expect(rows).toHaveLength(0);
  });
});
