import { DbPurposes, StatementCounts } from '@quarry/platform';
import type { PoolClient } from 'pg';
import { countStatements } from './counted-statements';
import { sqlText } from './literals';

/** A client that answers each simple query with one result per statement, as PostgreSQL does. */
function fakeClient(rowCounts: (text: string) => (number | null)[]): PoolClient {
  return {
    query: (text: string) => {
      const results = rowCounts(text).map((rowCount) => ({ rowCount }));
      return Promise.resolve(results.length === 1 ? results[0] : results);
    },
  } as unknown as PoolClient;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('countStatements', () => {
  it('counts a simple query of several statements as one, and follows its BEGIN, writes and COMMIT', async () => {
    const counts = new StatementCounts(new DbPurposes(false));
    const client = fakeClient((text) => {
      if (text.startsWith('BEGIN;')) return [null, 1, 0]; // BEGIN, the lock's one row, a FOR UPDATE that found none
      if (text.endsWith('COMMIT')) return [1, null];
      return [1];
    });
    countStatements(client, counts);

    // A literal holding a semicolon does not split its statement.
    await client.query(`BEGIN; SELECT pg_advisory_xact_lock_shared(1); SELECT x FROM t WHERE k = ${sqlText("a; b'c")} FOR UPDATE`);
    await settle();
    expect(counts.snapshot().unattributed).toEqual({ statements: 1, writeCommits: 0 });

    await client.query(`UPDATE t SET v = 1 WHERE k = ${sqlText('x;y')}; COMMIT`);
    await settle();
    expect(counts.snapshot().unattributed).toEqual({ statements: 2, writeCommits: 1 });

    // The transaction was closed by that COMMIT: a read outside it commits nothing.
    await client.query('SELECT 1');
    await settle();
    expect(counts.snapshot().unattributed).toEqual({ statements: 3, writeCommits: 1 });
  });

  it('sees a row locked in the statements sent with the BEGIN as a write of the transaction', async () => {
    const counts = new StatementCounts(new DbPurposes(false));
    const client = fakeClient((text) => (text.startsWith('BEGIN;') ? [null, 1] : [null]));
    countStatements(client, counts);
    await client.query('BEGIN; SELECT v FROM t WHERE k = 1 FOR UPDATE');
    await settle();
    await client.query('COMMIT');
    expect(counts.snapshot().unattributed).toEqual({ statements: 2, writeCommits: 1 });
  });

  it('sees an EXECUTE of a prepared statement that touched rows as a write of the transaction', async () => {
    const counts = new StatementCounts(new DbPurposes(false));
    const client = fakeClient((text) => (text.startsWith('BEGIN;') ? [null, null, 0] : [null, 1, null]));
    countStatements(client, counts);
    await client.query('BEGIN; PREPARE w AS INSERT INTO t VALUES ($1); EXECUTE r(1)');
    await settle();
    await client.query("PREPARE r AS SELECT 1; EXECUTE w('a'); COMMIT");
    await settle();
    expect(counts.snapshot().unattributed).toEqual({ statements: 2, writeCommits: 1 });
  });
});
