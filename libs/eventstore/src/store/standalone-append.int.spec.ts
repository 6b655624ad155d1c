import { randomUUID } from 'node:crypto';
import { JarAdded, SessionOpened, streamId } from '@quarry/contracts';
import { DbPurposes, StatementCounts } from '@quarry/platform';
import { createTestDatabase, settlesWithin, waitFor, type TestDatabase } from '@quarry/testing';
import { Client, type Pool } from 'pg';
import { ConcurrencyError, WriterFenced } from './concurrency-error';
import { OUTBOX_CHANNEL, PgEventStore } from './event-store';
import { EVENT_STORE_MIGRATIONS } from '../migrations';
import { runMigrations } from '../db/migrate';
import { createPool } from '../db/pool';
import { inTransaction } from '../db/sql';
import { createTallyTable, inlineTallyProjection, tallyRows } from '../test-support/tally-projection';

const sha = 'd'.repeat(64);
const MARKER = 'quarry_test_marker';
const opened = (publicId: string) => SessionOpened.create({ publicId, secretIdSha256: sha, userName: 'ana', database: 'default', params: {} });
const jar = (publicId: string, n: number) => JarAdded.create({ publicId, resourceType: 'jar', path: `/jars/${n}.jar`, sha256: sha, sizeBytes: n });

/**
 * An append without a transaction of the caller's is one autocommitted statement (ADR 11): it must
 * write nothing at all (version, events, outbox, inline projection, NOTIFY) unless its writer is
 * alive and the version claimed, since no ROLLBACK follows to undo a part of it.
 */
describe('a standalone append, one autocommitted statement (real PostgreSQL)', () => {
  let db: TestDatabase;
  let counts: StatementCounts;
  let pool: Pool;
  let listener: Client;
  const heard: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: (url) => runMigrations(url, EVENT_STORE_MIGRATIONS) });
    await createTallyTable(db.pool);
    counts = new StatementCounts(new DbPurposes(false));
    pool = createPool(db.url, 6, undefined, undefined, counts);
    listener = new Client({ connectionString: db.url });
    await listener.connect();
    listener.on('notification', (n) => heard.push(`${n.channel}:${n.payload}`));
    await listener.query(`LISTEN ${OUTBOX_CHANNEL}; LISTEN ${MARKER}`);
  });
  afterAll(async () => {
    await listener?.end();
    await pool?.end();
    await db?.drop();
  });

  const writer = async (nodeId: string) => {
    const fenced: WriterFenced[] = [];
    const store = new PgEventStore(pool, { nodeId, nodeIncarnation: randomUUID() }, 'quarry', undefined, (error) => fenced.push(error)).keepInline([inlineTallyProjection]);
    await inTransaction(pool, (tx) => store.startWriter(tx, nodeId));
    return { store, fenced };
  };

  /** Everything an append may write for `stream`. */
  const footprint = async (stream: string) => {
    const one = async (sql: string) => (await db.pool.query<{ n: number }>(sql, [stream])).rows[0].n;
    return {
      version: await one('SELECT coalesce(max(version), 0)::int AS n FROM streams WHERE stream_id = $1'),
      events: await one('SELECT count(*)::int AS n FROM events WHERE stream_id = $1'),
      outbox: await one('SELECT count(*)::int AS n FROM outbox WHERE message_key = $1'),
      tally: (await tallyRows(db.pool)).find((r) => r.stream_id === stream),
    };
  };

  /**
   * The notifications sent from now to a marker a live writer's append sends: NOTIFYs are heard
   * in commit order, so one sent by an append in between comes before the marker.
   */
  const mark = async (store: PgEventStore) => {
    const publicId = randomUUID();
    await inTransaction(pool, (tx) => store.appendIn(tx, streamId('session', publicId), 'no_stream', [opened(publicId)], [{ channel: MARKER, payload: publicId }]));
    await waitFor('the marker', () => heard.includes(`${MARKER}:${publicId}`));
  };
  const notifiedMeanwhile = async (marker: PgEventStore, work: () => Promise<void>) => {
    await mark(marker);
    heard.length = 0;
    await work();
    await mark(marker);
    // The marker's own append notifies the relay, then the marker.
    return heard.slice(0, -2);
  };

  it('of a fenced writer writes nothing, notifies no one, and throws WriterFenced', async () => {
    const ghost = await writer('G1');
    const survivor = await writer('S1');
    const publicId = randomUUID();
    const stream = streamId('session', publicId);
    await ghost.store.append(stream, 'no_stream', [opened(publicId)]);
    await inTransaction(pool, (tx) => survivor.store.endWriter(tx, ghost.store.writerIncarnation, 'node-down'));
    const before = await footprint(stream);
    expect(before).toMatchObject({ version: 1, events: 1, outbox: 1, tally: { applied: 1, last_version: 1 } });

    const fresh = streamId('session', randomUUID());
    const notified = await notifiedMeanwhile(survivor.store, async () => {
      await expect(ghost.store.append(stream, 1, [jar(publicId, 1)])).rejects.toBeInstanceOf(WriterFenced);
      await expect(ghost.store.append(stream, 'any', [jar(publicId, 2)])).rejects.toBeInstanceOf(WriterFenced);
      await expect(ghost.store.append(fresh, 'no_stream', [opened(randomUUID())])).rejects.toBeInstanceOf(WriterFenced);
    });
    expect(notified).toEqual([]);

    expect(ghost.fenced).toHaveLength(3);
    expect(await footprint(stream)).toEqual(before);
    expect(await footprint(fresh)).toEqual({ version: 0, events: 0, outbox: 0, tally: undefined });
  });

  it('waits for an end in flight, then is refused as fenced', async () => {
    const ghost = await writer('G2');
    const survivor = await writer('S2');
    const publicId = randomUUID();
    const stream = streamId('session', publicId);
    const ending = await pool.connect();
    try {
      await ending.query('BEGIN');
      expect(await survivor.store.endWriter(ending, ghost.store.writerIncarnation, 'node-down')).toBe(true);
      // The end holds the writer's row for update: the append's key-share lock waits for it.
      const appending = ghost.store.append(stream, 'no_stream', [opened(publicId)]);
      const refused = expect(appending).rejects.toBeInstanceOf(WriterFenced);
      await waitFor('the append to wait for the end', async () => {
        const { rows } = await db.pool.query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.datname = current_database()`,
        );
        return rows[0].waiting > 0;
      });
      await ending.query('COMMIT');
      await settlesWithin(refused, 10_000, 'the append behind the end');
    } finally {
      ending.release();
    }
    expect(await footprint(stream)).toEqual({ version: 0, events: 0, outbox: 0, tally: undefined });
  });

  it('on a version that moved writes nothing, notifies no one, and throws ConcurrencyError', async () => {
    const { store } = await writer('A1');
    const publicId = randomUUID();
    const stream = streamId('session', publicId);
    await store.append(stream, 'no_stream', [opened(publicId), jar(publicId, 1)]);
    const before = await footprint(stream);
    expect(before).toMatchObject({ version: 2, events: 2, outbox: 2, tally: { applied: 2, last_version: 2 } });

    const notified = await notifiedMeanwhile(store, async () => {
      await expect(store.append(stream, 1, [jar(publicId, 2)])).rejects.toMatchObject({ name: 'ConcurrencyError', expectedVersion: 1, actualVersion: 2 });
      await expect(store.append(stream, 'no_stream', [jar(publicId, 2)])).rejects.toBeInstanceOf(ConcurrencyError);
      await expect(store.append(streamId('session', randomUUID()), 3, [jar(publicId, 2)])).rejects.toBeInstanceOf(ConcurrencyError);
    });
    expect(notified).toEqual([]);
    expect(await footprint(stream)).toEqual(before);
  });

  it('lets exactly one of several concurrent appends with the same expected version win', async () => {
    const writers = await Promise.all(['C1', 'C2', 'C3', 'C4'].map(writer));
    const publicId = randomUUID();
    const stream = streamId('session', publicId);
    for (const [round, expected] of (['no_stream', 1, 2, 3, 4, 5] as const).entries()) {
      const outcomes = await Promise.allSettled(writers.map(({ store }, i) => store.append(stream, expected, [round === 0 ? opened(publicId) : jar(publicId, round * 10 + i)])));
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost.map((o) => o.reason)).toEqual(Array.from({ length: 3 }, () => expect.any(ConcurrencyError)));
    }
    expect(await footprint(stream)).toEqual({ version: 6, events: 6, outbox: 6, tally: { stream_id: stream, applied: 6, last_version: 6 } });
  });

  it('costs one statement and one write commit', async () => {
    const { store } = await writer('N1');
    const publicId = randomUUID();
    const before = counts.snapshot().unattributed;
    await store.append(streamId('session', publicId), 'no_stream', [opened(publicId)]);
    const after = counts.snapshot().unattributed;
    expect({ statements: after.statements - before.statements, writeCommits: after.writeCommits - before.writeCommits }).toEqual({ statements: 1, writeCommits: 1 });
  });
});
