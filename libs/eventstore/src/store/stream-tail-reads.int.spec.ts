import { randomUUID } from 'node:crypto';
import { JarAdded, SessionOpened, streamId } from '@quarry/contracts';
import { createTestDatabase, type TestDatabase } from '@quarry/testing';
import { PgEventStore } from './event-store';
import { StreamTailReads } from './stream-tail-reads';
import { EVENT_STORE_MIGRATIONS } from '../migrations';
import { runMigrations } from '../db/migrate';
import type { Sql } from '../db/sql';

const sha = 'c'.repeat(64);

/** The pool, counting statements; a result can be held back until `release` is called. */
function countingSql(db: TestDatabase) {
  const counter = { statements: 0, hold: false, release: () => undefined as void };
  const sql = {
    query: async (config: { text: string; values?: unknown[] }) => {
      counter.statements++;
      const result = await db.pool.query(config);
      if (counter.hold) {
        counter.hold = false;
        await new Promise<void>((resolve) => (counter.release = resolve));
      }
      return result;
    },
  } as unknown as Sql;
  return { sql, counter };
}

describe('StreamTailReads (real PostgreSQL)', () => {
  let db: TestDatabase;
  let store: PgEventStore;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: (url) => runMigrations(url, EVENT_STORE_MIGRATIONS) });
    store = new PgEventStore(db.pool, { nodeId: 'L1', nodeIncarnation: randomUUID() }, 'quarry');
  });
  afterAll(() => db.drop());

  async function session(jars: number): Promise<{ publicId: string; stream: string }> {
    const publicId = randomUUID();
    const stream = streamId('session', publicId);
    const opened = SessionOpened.create({ publicId, secretIdSha256: sha, userName: 'ana', database: 'default', params: {} });
    const added = Array.from({ length: jars }, (_, n) => JarAdded.create({ publicId, resourceType: 'jar', path: `/jars/${n}.jar`, sha256: sha, sizeBytes: n }));
    await store.append(stream, 'no_stream', [opened, ...added]);
    return { publicId, stream };
  }

  it('answers the reads asked in one turn with one statement, each from its own version', async () => {
    const [a, b, empty] = [await session(2), await session(0), streamId('session', randomUUID())];
    const { sql, counter } = countingSql(db);
    const reads = new StreamTailReads(sql);
    const versions = (events: { streamVersion: number }[]) => events.map((e) => e.streamVersion);

    const answers = await Promise.all([reads.read(a.stream, 1), reads.read(a.stream, 3), reads.read(b.stream, 1), reads.read(b.stream, 2), reads.read(empty, 1)]);

    expect(answers.map(versions)).toEqual([[1, 2, 3], [3], [1], [], []]);
    expect(answers[0].every((e) => e.streamId === a.stream)).toBe(true);
    expect(counter.statements).toBe(1);
  });

  it('answers a read asked while a statement is out with a later statement, which sees what committed meanwhile', async () => {
    const a = await session(0);
    const { sql, counter } = countingSql(db);
    const reads = new StreamTailReads(sql);

    counter.hold = true;
    const first = reads.read(a.stream, 1);
    // The first statement has run (its result is held back); a write commits after it, then a read is asked.
    await waitFor(() => counter.statements === 1);
    await store.append(a.stream, 1, [JarAdded.create({ publicId: a.publicId, resourceType: 'jar', path: '/jars/late.jar', sha256: sha, sizeBytes: 1 })]);
    const second = reads.read(a.stream, 1);
    counter.release();

    expect((await first).map((e) => e.streamVersion)).toEqual([1]);
    expect((await second).map((e) => e.streamVersion)).toEqual([1, 2]);
    expect(counter.statements).toBe(2);
  });

  it('fails every read of a statement that failed, and reads again on the next one', async () => {
    const a = await session(0);
    let fail = true;
    const sql = {
      query: async (config: { text: string; values?: unknown[] }) => {
        if (fail) throw new Error('the database said no');
        return db.pool.query(config);
      },
    } as unknown as Sql;
    const reads = new StreamTailReads(sql);

    const failed = await Promise.allSettled([reads.read(a.stream, 1), reads.read(a.stream, 1)]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect((await reads.read(a.stream, 1)).map((e) => e.type)).toEqual(['SessionOpened']);
  });
});

/** Polls a condition of this process (no sleep standing in for it). */
async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
