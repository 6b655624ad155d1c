import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LensClient, waitFor, type OpenedSession } from '@quarry/testing';
import { getResultset, rowsIn, startResultCluster, statusOf, submit, succeeded, type ResultCluster, type StatusJson } from './result-api';

const MiB = 1024 * 1024;
const PERSISTED = { 'lens.query.enable.persistent.resultset': 'true' };

/** Waits for the query to end; its last status. */
function ended(client: LensClient, session: OpenedSession, handle: string): Promise<StatusJson> {
  return waitFor(`${handle} to end`, async () => {
    const status = await statusOf(client, session, handle);
    return ['SUCCESSFUL', 'FAILED', 'CANCELED'].includes(status.status) ? status : undefined;
  }, { timeoutMs: 120_000, intervalMs: 100 });
}

/**
 * One node (L1) behind the balancer; each case checks that the query failed naming the limit,
 * that L1 is the same process and healthy, and that its next query succeeds.
 */
function limitsCluster(env: Record<string, string>) {
  const duckdbDir = mkdtempSync(join(tmpdir(), 'quarry-limits-duck-'));
  let results: ResultCluster;
  let lens: LensClient;
  let session: OpenedSession;
  let pid: number;

  beforeAll(async () => {
    results = await startResultCluster({ size: 1, env: { QUARRY_DUCKDB_WAREHOUSE: duckdbDir, ...env } });
    lens = new LensClient(results.cluster.balancerUrl);
    session = await lens.open('ana');
    pid = results.cluster.node('L1').process.pid;
  });
  afterAll(async () => {
    await results?.stop();
    rmSync(duckdbDir, { recursive: true, force: true });
  });

  const failsNamingTheLimit = async (sql: string, conf: Record<string, string>, limit: RegExp) => {
    const status = await ended(lens, session, await submit(lens, session, sql, conf));
    expect([status.status, status.errorMessage]).toEqual(['FAILED', expect.stringMatching(limit)]);
    const node = results.cluster.node('L1');
    expect([node.process.running, node.process.pid]).toEqual([true, pid]);
    expect((await fetch(`${node.url}/health`)).status).toBe(200);
    const next = await submit(lens, session, 'SELECT 7 AS seven', conf);
    await succeeded(lens, session, next);
  };
  return { failsNamingTheLimit, results: () => results, lens: () => lens, session: () => session };
}

describe('result limits: no query crashes a node', () => {
  describe('at the default limits (64 MiB a value)', () => {
    const cluster = limitsCluster({});
    // In memory the DataRow's field length names the value at once; COPY's CSV row is known as a whole row first.
    for (const [where, conf, limit] of [
      ['in memory', {}, /a value of 600000000 bytes is larger than QUARRY_RESULT_MAX_VALUE_BYTES \(67108864 bytes\)/],
      ['persisted', PERSISTED, /a row of 600000006 bytes is larger than QUARRY_RESULT_MAX_ROW_BYTES \(134217728 bytes\)/],
    ] as const) {
      it(`fails SELECT repeat('x', 600000000) on pg ${where}, naming the limit; the node stays up`, async () => {
        await cluster.failsNamingTheLimit("SELECT repeat('x', 600000000) AS v", { 'lens.query.driver': 'pg', ...conf }, limit);
      });
      // The DuckDB host measures each value before it becomes a message, in memory and for CSV alike;
      // a value longer than V8's longest string is known only to be at least that long.
      it(`fails SELECT repeat('x', 600000000) on duckdb ${where}, naming the limit; the node stays up`, async () => {
        const duckdbLimit = /a value of at least \d{9} bytes is larger than QUARRY_RESULT_MAX_VALUE_BYTES \(67108864 bytes\)/;
        await cluster.failsNamingTheLimit("SELECT repeat('x', 600000000) AS v", { 'lens.query.driver': 'duckdb', ...conf }, duckdbLimit);
      });
    }
  });

  describe('with small limits (1 MiB a value, 3 MiB a row, 8 MiB a FETCH)', () => {
    const cluster = limitsCluster({
      QUARRY_RESULT_MAX_VALUE_BYTES: String(MiB),
      QUARRY_RESULT_MAX_ROW_BYTES: String(3 * MiB),
      QUARRY_RESULT_MAX_BATCH_BYTES: String(8 * MiB),
    });
    const value = `SELECT 1 AS id, repeat('v', ${2 * MiB}) AS v`;
    const row = `SELECT ${[1, 2, 3, 4].map((i) => `repeat('${i}', ${MiB - 10}) AS c${i}`).join(', ')}`;
    for (const driver of ['pg', 'duckdb']) {
      for (const [where, conf] of [
        ['in memory', {}],
        ['persisted', PERSISTED],
      ] as const) {
        it(`${driver}, ${where}: a value over the limit and a row over the limit each fail naming their limit; the node stays up`, async () => {
          const asked = { 'lens.query.driver': driver, ...conf };
          await cluster.failsNamingTheLimit(value, asked, /a value of (at least )?\d+ bytes is larger than QUARRY_RESULT_MAX_VALUE_BYTES \(1048576 bytes\)/);
          await cluster.failsNamingTheLimit(row, asked, /a row of \d+ bytes is larger than QUARRY_RESULT_MAX_ROW_BYTES \(3145728 bytes\)/);
        });
      }
    }

    it('pg, in memory: rows longer together than the FETCH budget all arrive; rows that grow past their FETCH fail naming it; the node stays up', async () => {
      const [lens, session] = [cluster.lens(), cluster.session()];
      const pg = { 'lens.query.driver': 'pg' };
      const rowChars = 512 * 1024;
      // 24 rows of 512 KiB: 12 MiB, read in FETCHes of 2 (two rows at the row limit), then of 15.
      const handle = await submit(lens, session, `SELECT g AS id, repeat('x', ${rowChars}) AS v FROM generate_series(1, 24) g`, pg);
      await succeeded(lens, session, handle);
      const rows = rowsIn(await getResultset(lens, session, handle, { fetchsize: '100' }));
      expect(rows.map(([id, v]) => [Number(id), String(v).length])).toEqual(Array.from({ length: 24 }, (_, i) => [i + 1, rowChars]));
      // Ten short rows size the next FETCH at 1,000 rows; the long ones after them pass 8 MiB.
      const grows = `SELECT g AS id, CASE WHEN g <= 10 THEN 'short' ELSE repeat('x', ${rowChars}) END AS v FROM generate_series(1, 100) g`;
      await cluster.failsNamingTheLimit(grows, pg, /a batch of rows of at least \d+ bytes is larger than QUARRY_RESULT_MAX_BATCH_BYTES \(8388608 bytes\)/);
    });

    it('EXECUTE_WITH_TIMEOUT: a value over the limit answers the failure, not rows', async () => {
      const lens = cluster.lens();
      const answer = await lens.request('POST', 'queryapi/queries', {
        form: { sessionid: cluster.session().xml, query: value, operation: 'EXECUTE_WITH_TIMEOUT', timeoutmillis: '60000' },
        accept: 'application/json',
      });
      expect(answer.status).toBe(200);
      expect(answer.text).toMatch(/QUARRY_RESULT_MAX_VALUE_BYTES/);
      expect(answer.text).not.toMatch(/vvvvvvvv/);
    });

    describe('reading back a persisted result never answers 500', () => {
      const persistedResult = async (conf: Record<string, string> = {}) => {
        const lens = cluster.lens();
        const session = cluster.session();
        const handle = await submit(lens, session, `SELECT g AS id, 'say "hi"' || g AS label FROM generate_series(1, 50) g`, { ...PERSISTED, ...conf });
        await succeeded(lens, session, handle);
        return { handle, file: join(cluster.results().resultDir, `${handle}.csv${conf['lens.query.output.compression.codec'] === 'gzip' ? '.gz' : ''}`) };
      };
      const read = async (handle: string) => {
        const page = await getResultset(cluster.lens(), cluster.session(), handle, { fetchsize: '100' });
        const download = await cluster.lens().request('GET', `queryapi/queries/${handle}/httpresultset`, { query: { sessionid: cluster.session().xml } });
        return { page: [page.status, page.errorCode, page.text], download: [download.status, download.errorCode] };
      };

      it('a missing file: 410 from both routes, saying it is missing', async () => {
        const { handle, file } = await persistedResult();
        rmSync(file);
        const { page, download } = await read(handle);
        expect(page).toEqual([410, 9002, expect.stringMatching(/missing from the result store/)]);
        expect(download).toEqual([410, 9002]);
      });

      it('a truncated file, and a gzip file that is not gzip: 410, truncated or corrupt', async () => {
        const plain = await persistedResult();
        truncateSync(plain.file, 30);
        expect((await read(plain.handle)).page).toEqual([410, 9002, expect.stringMatching(/truncated or corrupt/)]);
        const gzip = await persistedResult({ 'lens.query.output.compression.codec': 'gzip' });
        writeFileSync(gzip.file, '1,"say ""hi""1"\n');
        expect((await read(gzip.handle)).page).toEqual([410, 9002, expect.stringMatching(/truncated or corrupt/)]);
      });

      it('a row longer than QUARRY_RESULT_MAX_ROW_BYTES: 400 naming it and the download; the download serves it', async () => {
        const { handle, file } = await persistedResult();
        writeFileSync(file, `1,${'x'.repeat(4 * MiB)}\n`);
        const { page, download } = await read(handle);
        expect(page).toEqual([400, 1006, expect.stringMatching(/QUARRY_RESULT_MAX_ROW_BYTES.*httpresultset/)]);
        expect(download).toEqual([200, undefined]);
        expect(rowsIn(await getResultset(cluster.lens(), cluster.session(), handle, { fromindex: '1', fetchsize: '1' }))).toEqual([]);
      });
    });
  });
});
