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
    expect(rows.map((r) => r.name).filter((n) => n.startsWith('quarry_batch_'))).toEqual(['quarry_batch_lock', 'quarry_batch_offset', 'quarry_batch_positions', 'quarry_batch_record']);
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
