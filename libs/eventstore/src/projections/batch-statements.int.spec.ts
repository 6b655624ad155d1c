import { createTestDatabase, type TestDatabase } from '@quarry/testing';
import { Pool, type PoolClient } from 'pg';
import { runMigrations } from '../db/migrate';
import { DeferredStatements } from '../db/deferred-statements';
import { inOneRoundTrip, inTransaction } from '../db/sql';
import { EVENT_STORE_MIGRATIONS } from '../migrations';
import { BATCH_NOT_AS_EXPECTED, expectedBatch, openBatch, openedBatch, recordBatch, type BatchSource } from './batch-statements';

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
    expect(rows.map((r) => r.name).filter((n) => n.startsWith('quarry_batch_'))).toEqual(['quarry_batch_expect', 'quarry_batch_lock', 'quarry_batch_offset', 'quarry_batch_positions', 'quarry_batch_record']);
  });

  it('does not keep a connection that lost its prepared statements: the next batch prepares on a new one', async () => {
    const before = await batch(['session-c'], '4');
    await single.query('DEALLOCATE ALL');
    await expect(batch(['session-c'], '5')).rejects.toMatchObject({ code: '26000' });
    const after = await batch(['session-c'], '5');
    expect(after.pid).not.toBe(before.pid);
    expect(after.storedOffset).toBe('4');
  });

  it('records a batch by the primary key: the rows it reads do not grow with the positions stored', async () => {
    await db.pool.query(`INSERT INTO projection_streams (projection, stream_id, version) SELECT 'tally', 'session-many-' || n, 1 FROM generate_series(1, 2000) AS n`);
    const tx = await single.connect();
    try {
      await tx.query('BEGIN');
      // The plan every connection settles on after five runs; the statistics of a table never analyzed.
      await tx.query('SET LOCAL plan_cache_mode = force_generic_plan');
      const record = recordBatch(source, { streamIds: ['session-many-7', 'session-many-8'], versions: [2, 2] }, '6', false);
      const { rows } = await tx.query<{ 'QUERY PLAN': PlanNode[] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${record}`);
      const scanned = nodesOf(rows[0]['QUERY PLAN'][0].Plan).filter((n) => n['Relation Name'] === 'projection_streams' && n['Node Type'] !== 'ModifyTable');
      expect(scanned.map((n) => n['Actual Rows'] * n['Actual Loops']).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2);
    } finally {
      await tx.query('ROLLBACK');
      tx.release();
    }
  });
});

describe('a projection batch in one round trip (real PostgreSQL)', () => {
  let db: TestDatabase;
  let single: Pool;
  const source: BatchSource = { projection: 'marks', topic: 'quarry.session', partition: 1 };

  /** A batch writing one mark per stream at `version`, expecting each stream at version - 1 and the stored offset at or below `firstOffset`. */
  const batch = (streams: string[], version: number, firstOffset: bigint, nextOffset: string) =>
    inOneRoundTrip(
      single,
      async (connection) => {
        const writes = new DeferredStatements(connection);
        for (const stream of streams) await writes.query('INSERT INTO marks (stream_id, version) VALUES ($1, $2)', [stream, version]);
        const expected = { streamIds: [...streams].sort(), versions: streams.map(() => version - 1) };
        const record = recordBatch(source, { streamIds: expected.streamIds, versions: expected.streamIds.map(() => version) }, nextOffset, false);
        return expectedBatch(source, firstOffset, expected, writes, record)(connection);
      },
      BATCH_NOT_AS_EXPECTED,
    );
  const state = async () => ({
    marks: (await db.pool.query('SELECT stream_id, version FROM marks ORDER BY stream_id, version')).rows,
    positions: (await db.pool.query(`SELECT stream_id, version FROM projection_streams WHERE projection = 'marks' ORDER BY stream_id`)).rows,
    offset: (await db.pool.query(`SELECT next_offset FROM projection_offsets WHERE projection = 'marks'`)).rows[0]?.next_offset,
  });

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: (url) => runMigrations(url, EVENT_STORE_MIGRATIONS) });
    await db.pool.query('CREATE TABLE marks (stream_id text NOT NULL, version int NOT NULL, PRIMARY KEY (stream_id, version))');
    single = new Pool({ connectionString: db.url, max: 1 });
  });

  afterAll(async () => {
    await single.end();
    await db.drop();
  });

  it('commits when the positions and the stored offset are as delivered, and refuses, writing nothing, when they are not', async () => {
    await expect(batch(['session-b', 'session-a'], 1, 0n, '1')).resolves.toBe('committed');
    const applied = await state();
    expect(applied).toEqual({
      marks: [{ stream_id: 'session-a', version: 1 }, { stream_id: 'session-b', version: 1 }],
      positions: [{ stream_id: 'session-a', version: 1 }, { stream_id: 'session-b', version: 1 }],
      offset: '1',
    });
    // A copy of that batch: the stored offset is past its first one.
    await expect(batch(['session-a'], 1, 0n, '1')).resolves.toBe('refused');
    // Its offset is next, but a stream is not where it expects (version 3 after 1).
    await expect(batch(['session-a', 'session-c'], 3, 1n, '2')).resolves.toBe('refused');
    expect(await state()).toEqual(applied);
    // A new stream is expected at version 0.
    await expect(batch(['session-a', 'session-c'], 2, 1n, '2')).resolves.toBe('refused');
    // The connection is kept, its prepared statements known: the next batch on it commits.
    await expect(batch(['session-a'], 2, 1n, '2')).resolves.toBe('committed');
    expect((await state()).positions).toEqual([
      { stream_id: 'session-a', version: 2 },
      { stream_id: 'session-b', version: 1 },
    ]);
  });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

function nodesOf(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodesOf)];
}
