import { randomUUID } from 'node:crypto';
import { NodeDown, SessionOpened, streamId } from '@quarry/contracts';
import { createTestDatabase, settlesWithin, waitFor, type TestDatabase } from '@quarry/testing';
import { WriterFenced } from './concurrency-error';
import { PgEventStore } from './event-store';
import { EVENT_STORE_MIGRATIONS } from '../migrations';
import { runMigrations } from '../db/migrate';
import { inTransaction } from '../db/sql';

const sha = 'c'.repeat(64);
const opened = (publicId = randomUUID()) => SessionOpened.create({ publicId, secretIdSha256: sha, userName: 'ana', database: 'default', params: {} });

describe('writers fenced by incarnation (real PostgreSQL)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: (url) => runMigrations(url, EVENT_STORE_MIGRATIONS) });
  });
  afterAll(() => db.drop());

  const writerOn = async (nodeId: string) => {
    const fenced: WriterFenced[] = [];
    const store = new PgEventStore(db.pool, { nodeId, nodeIncarnation: randomUUID() }, 'quarry', undefined, (error) => fenced.push(error));
    await inTransaction(db.pool, (tx) => store.startWriter(tx, nodeId));
    return { store, fenced };
  };

  it('refuses every append of an ended writer, says so to its node, and ends a writer only once', async () => {
    const ghost = await writerOn('L2');
    const survivor = await writerOn('L1');
    await ghost.store.append(streamId('session', randomUUID()), 'no_stream', [opened()]);

    const ended = await inTransaction(db.pool, (tx) => survivor.store.endWriter(tx, ghost.store.writerIncarnation, 'node-down'));
    expect(ended).toBe(true);
    expect(await inTransaction(db.pool, (tx) => survivor.store.endWriter(tx, ghost.store.writerIncarnation, 'node-down'))).toBe(false);

    const stream = streamId('session', randomUUID());
    await expect(ghost.store.append(stream, 'no_stream', [opened()])).rejects.toBeInstanceOf(WriterFenced);
    expect(ghost.fenced).toHaveLength(1);
    // Nothing of the refused append landed, not even the stream's version.
    expect(await ghost.store.readStream(stream)).toEqual([]);
    expect(await ghost.store.currentVersion(db.pool, stream)).toBe(0);
    // The survivor writes on.
    await survivor.store.append(stream, 'no_stream', [opened()]);
    expect(survivor.fenced).toEqual([]);
  });

  it('ending a writer waits for its append in flight, so nothing of it lands after the end', async () => {
    const ghost = await writerOn('L3');
    const survivor = await writerOn('L1');
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await ghost.store.appendIn(client, streamId('session', randomUUID()), 'no_stream', [opened()]);
      // The append holds its writer's row; the end must wait for it, then record NodeDown after it.
      const ending = inTransaction(db.pool, async (tx) => {
        const done = await survivor.store.endWriter(tx, ghost.store.writerIncarnation, 'node-down');
        await survivor.store.appendIn(tx, streamId('node', 'L3'), 'any', [
          NodeDown.create({ nodeId: 'L3', incarnation: ghost.store.writerIncarnation, detectedBy: 'L1', lastHeartbeatAt: new Date().toISOString() }),
        ]);
        return done;
      });
      let settled = false;
      void ending.finally(() => (settled = true));
      await waitFor('the end to wait for the append in flight', async () => {
        const { rows } = await db.pool.query<{ waiting: number }>(`SELECT count(*)::int AS waiting FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.datname = current_database()`);
        return rows[0].waiting > 0;
      });
      expect(settled).toBe(false);
      await client.query('COMMIT');
      expect(await settlesWithin(ending, 10_000, 'the end to go through')).toBe(true);
    } finally {
      client.release();
    }
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM events e, events d
       WHERE d.type = 'NodeDown' AND d.payload->>'incarnation' = $1 AND e.node_incarnation = $1 AND e.global_position > d.global_position`,
      [ghost.store.writerIncarnation],
    );
    expect(rows[0].n).toBe(0);
    expect((await db.pool.query(`SELECT 1 FROM events WHERE node_incarnation = $1`, [ghost.store.writerIncarnation])).rows).toHaveLength(1);
  });

  it('an append that comes while a writer is being ended waits for the end, then is refused: it sees the end', async () => {
    const ghost = await writerOn('L4');
    const survivor = await writerOn('L1');
    const ender = await db.pool.connect();
    const stream = streamId('session', randomUUID());
    try {
      await ender.query('BEGIN');
      expect(await survivor.store.endWriter(ender, ghost.store.writerIncarnation, 'node-down')).toBe(true);
      // Started while the end is not committed: its statement's snapshot predates the end.
      const late = ghost.store.append(stream, 'no_stream', [opened()]);
      const outcome = late.then(
        () => 'appended',
        (error: unknown) => (error instanceof WriterFenced ? 'fenced' : String(error)),
      );
      await waitFor('the append to wait for the end', async () => {
        const { rows } = await db.pool.query<{ waiting: number }>(`SELECT count(*)::int AS waiting FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.datname = current_database()`);
        return rows[0].waiting > 0;
      });
      await ender.query('COMMIT');
      expect(await outcome).toBe('fenced');
    } finally {
      ender.release();
    }
    expect(await ghost.store.readStream(stream)).toEqual([]);
    expect(await ghost.store.currentVersion(db.pool, stream)).toBe(0);
  });
});
