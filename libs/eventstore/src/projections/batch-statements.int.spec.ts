import { createTestDatabase, type TestDatabase } from '@quarry/testing';
import { Pool, type PoolClient } from 'pg';
import { runMigrations } from '../db/migrate';
import { inTransaction } from '../db/sql';
import { EVENT_STORE_MIGRATIONS } from '../migrations';
import { openBatch, openedBatch, recordBatch, type BatchSource } from './batch-statements';

/** A batch's statements are prepared once per connection (PREPARE with its first batch, EXECUTE after). */
describe('a projection batch’s prepared statements (real PostgreSQL)', () => {
  let db: TestDatabase;
  /** One connection, so that every batch meets what the ones before left on it. */
  let single: Pool;
  const source: BatchSource = { projection: 'tally', topic: 'quarry.session', partition: 0 };
  const backendOf = async (tx: PoolClient) => (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;

  /** A batch of `streams` recorded at `nextOffset`; `fail` throws inside it, after its BEGIN. */
  const batch = (streams: string[], nextOffset: string, fail = false) =>
    inTransaction(
      single,
      async (tx, opened) => {
        const { storedOffset, positions } = openedBatch(source.projection, opened);
        if (fail) throw new Error('the projection failed');
        for (const stream of streams) positions.advance(stream, positions.versionOf(stream) + 1);
        return { storedOffset, pid: await backendOf(tx), record: recordBatch(source, positions.changes, nextOffset, false) };
      },
      { first: openBatch(source, streams), last: (applied) => applied.record },
    );

  const positions = async () =>
    (await db.pool.query<{ stream_id: string; version: number }>(`SELECT stream_id, version FROM projection_streams WHERE projection = 'tally' ORDER BY stream_id`)).rows;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: (url) => runMigrations(url, EVENT_STORE_MIGRATIONS) });
    single = new Pool({ connectionString: db.url, max: 1 });
  });

  afterAll(async () => {
    await single.end();
    await db.drop();
  });

  it('prepares with a connection’s first batch, even one that rolls back, and runs them prepared after', async () => {
    await expect(batch(['session-a'], '1', true)).rejects.toThrow('the projection failed');
    const first = await batch(['session-b', 'session-a'], '2');
    const second = await batch(['session-a'], '3');
    expect(second.pid).toBe(first.pid);
    expect([first.storedOffset, second.storedOffset]).toEqual([undefined, '2']);
    expect(await positions()).toEqual([
      { stream_id: 'session-a', version: 2 },
      { stream_id: 'session-b', version: 1 },
    ]);
    const { rows } = await single.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name');
    expect(rows.map((r) => r.name).filter((n) => n.startsWith('quarry_batch_'))).toEqual(['quarry_batch_offset', 'quarry_batch_positions', 'quarry_batch_record']);
  });

  it('does not keep a connection that lost its prepared statements: the next batch prepares on a new one', async () => {
    const before = await batch(['session-c'], '4');
    await single.query('DEALLOCATE ALL');
    await expect(batch(['session-c'], '5')).rejects.toMatchObject({ code: '26000' });
    const after = await batch(['session-c'], '5');
    expect(after.pid).not.toBe(before.pid);
    expect(after.storedOffset).toBe('4');
  });
});
