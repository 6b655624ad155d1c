import { createTestDatabase, type TestDatabase } from '@quarry/testing';
import { Pool, type PoolClient } from 'pg';
import { sqlText } from './literals';
import { inTransaction } from './sql';

/** inTransaction's `first` and `last`: statements that share the BEGIN's and the COMMIT's round trips. */
describe('statements sent with BEGIN and COMMIT (real PostgreSQL)', () => {
  let db: TestDatabase;
  const rows = async () => (await db.pool.query<{ k: string }>('SELECT k FROM kv ORDER BY k')).rows.map((r) => r.k);
  const backendOf = async (tx: PoolClient) => (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query('CREATE TABLE kv (k text PRIMARY KEY)');
  });

  afterAll(async () => {
    await db.drop();
  });

  beforeEach(async () => {
    await db.pool.query('TRUNCATE kv');
  });

  it('hands the results of `first` to the work, in order, and commits what `last` writes', async () => {
    await db.pool.query(`INSERT INTO kv VALUES ('a')`);
    const seen = await inTransaction(
      db.pool,
      async (_tx, opened) => opened.map((r) => r.rows),
      { first: `SELECT 1 AS one; SELECT k FROM kv FOR UPDATE`, last: () => `INSERT INTO kv VALUES (${sqlText("it's")})` },
    );
    expect(seen).toEqual([[{ one: 1 }], [{ k: 'a' }]]);
    expect(await rows()).toEqual(['a', "it's"]);
  });

  it('rolls the whole transaction back when `last` fails: its COMMIT never runs', async () => {
    await expect(
      inTransaction(
        db.pool,
        async (tx) => {
          await tx.query(`INSERT INTO kv VALUES ('b')`);
        },
        { last: () => `INSERT INTO kv VALUES ('b')` },
      ),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await rows()).toEqual([]);
  });

  it('rolls back and keeps the connection when a statement of `first` fails', async () => {
    const one = new Pool({ connectionString: db.url, max: 1 });
    try {
      const pids = new Set<number>();
      await inTransaction(one, async (tx) => pids.add(await backendOf(tx)));
      await expect(inTransaction(one, async () => undefined, { first: 'SELECT 1/0' })).rejects.toMatchObject({ code: '22012' });
      // The same connection serves again, out of the failed transaction.
      await inTransaction(one, async (tx) => {
        pids.add(await backendOf(tx));
        await tx.query(`INSERT INTO kv VALUES ('c')`);
      });
      expect(pids.size).toBe(1);
      expect(one.totalCount).toBe(1);
      expect(await rows()).toEqual(['c']);
    } finally {
      await one.end();
    }
  });
});
