import { DuckDBInstance } from '@duckdb/node-api';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { settlesWithin, waitFor } from '@quarry/testing';
import { DriverCanceled, DriverQueryError } from '../driver';
import { CollectingSink, gate, rowsOf, sessionSpec } from '../test-support/sessions';
import { DuckDbDriver } from './duckdb-driver';

/** Pids of the DuckDB hosts that are children of this (Jest) process (their script names the module variable). */
function hostProcesses(): number[] {
  try {
    const out = execFileSync('ps', ['-ww', '-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
    return out
      .split('\n')
      .filter((line) => line.includes('QUARRY_DUCKDB_MODULE'))
      .map((line) => Number(line.trim().split(' ')[0]));
  } catch {
    return []; // ps exits 1 when there is no child at all
  }
}

/** Scans 100 billion rows before its first chunk: minutes, unless interrupted. */
const LONG_SCAN = 'SELECT range FROM range(100000000000) WHERE hash(range) = 42';

/**
 * On a session whose connection is open, a statement is sent to DuckDB within the microtasks
 * after execute(); one turn of the event loop later it is there. (DuckDB shows no running
 * statements to wait on; a cancel that arrives before it starts is repeated until it lands.)
 */
const started = () => new Promise((resolve) => setImmediate(resolve));

describe('DuckDbDriver (real DuckDB, real files)', () => {
  let root: string;
  let warehouse: string;
  let outside: string;
  let driver: DuckDbDriver;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'quarry-duckdb-test-'));
    warehouse = join(root, 'warehouse');
    outside = join(root, 'outside');
    mkdirSync(join(warehouse, 'nested'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(warehouse, 'regions.csv'), 'code,name\nemea,Europe\namer,Americas\n');
    writeFileSync(join(warehouse, 'nested', 'more.csv'), 'code,name\napac,Asia\n');
    writeFileSync(join(outside, 'secret.csv'), 'secret\nhunter2\n');
    const instance = await DuckDBInstance.create(':memory:');
    const fixtures = await instance.connect();
    await fixtures.run(
      `COPY (SELECT range::INTEGER AS id, 'r' || (range % 5) AS region, (range * 1.25)::DECIMAL(12, 2) AS amount,
        DATE '2024-01-01' + range::INTEGER AS sold_at FROM range(1000)) TO $1 (FORMAT parquet)`,
      [join(warehouse, 'sales.parquet')],
    );
    fixtures.closeSync();
    instance.closeSync();
    driver = new DuckDbDriver('duckdb', { warehouseDir: warehouse });
  });
  afterAll(async () => {
    await driver.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('reads Parquet and CSV by relative name, with Lens column types and JSON-friendly values', async () => {
    const session = sessionSpec('files');
    const sink = new CollectingSink();
    await driver.execute(session, "SELECT * FROM 'sales.parquet' ORDER BY id LIMIT 2", sink).done;
    expect(sink.columnsSeen).toEqual([
      { name: 'id', type: 'INT' },
      { name: 'region', type: 'STRING' },
      { name: 'amount', type: 'DECIMAL' },
      { name: 'sold_at', type: 'DATE' },
    ]);
    expect(sink.rowsSeen).toEqual([
      [0, 'r0', '0.00', '2024-01-01'],
      [1, 'r1', '1.25', '2024-01-02'],
    ]);
    expect(await rowsOf(driver, session, "SELECT code FROM 'regions.csv' UNION ALL SELECT code FROM read_csv('nested/*.csv') ORDER BY 1")).toEqual([
      ['amer'],
      ['apac'],
      ['emea'],
    ]);
  });

  it('maps every common type', async () => {
    const sink = new CollectingSink();
    const sql = `SELECT 7::INTEGER AS i, 9007199254740993::BIGINT AS b, 3::SMALLINT AS s, 1.5::DOUBLE AS d, 2.5::FLOAT AS f,
      12.34::DECIMAL(10, 2) AS n, 'x' AS t, true AS ok, DATE '2024-02-03' AS day, TIMESTAMP '2024-02-03 04:05:06.789' AS ts,
      '\\xAA'::BLOB AS bin, [1, 2] AS list, 4::UINTEGER AS u, NULL::INTEGER AS nothing`;
    await driver.execute(sessionSpec('types'), sql, sink).done;
    expect(sink.columnsSeen.map((c) => `${c.name}:${c.type}`)).toEqual([
      'i:INT', 'b:BIGINT', 's:SMALLINT', 'd:DOUBLE', 'f:FLOAT', 'n:DECIMAL', 't:STRING', 'ok:BOOLEAN', 'day:DATE', 'ts:TIMESTAMP',
      'bin:BINARY', 'list:STRING', 'u:BIGINT', 'nothing:INT',
    ]);
    expect(sink.rowsSeen[0]).toEqual([7, '9007199254740993', 3, 1.5, 2.5, '12.34', 'x', true, '2024-02-03', '2024-02-03T04:05:06.789', '\\xAA', '[1,2]', '4', null]);
  });

  it('streams 200,000 rows in chunks, one in flight', async () => {
    const sink = new CollectingSink(false);
    const { rowCount } = await driver.execute(sessionSpec('big'), 'SELECT range AS i, md5(range::VARCHAR) AS h FROM range(200000)', sink).done;
    expect(rowCount).toBe(200_000);
    expect(sink.rowCount).toBe(200_000);
    expect(sink.batchSizes.length).toBeGreaterThanOrEqual(50);
    expect(Math.max(...sink.batchSizes)).toBeLessThanOrEqual(2048);
  });

  it('runs .sql init scripts on the session connection first; another session does not see them', async () => {
    const session = sessionSpec('macro', 'v1', { 'macros.sql': 'CREATE TEMP MACRO twice(x) AS x * 2; CREATE TEMP TABLE marker AS SELECT 1 AS n;' });
    expect(await rowsOf(driver, session, 'SELECT twice(21)')).toEqual([[42]]);
    expect(await rowsOf(driver, session, 'SELECT count(*) FROM marker')).toEqual([['1']]);
    await expect(driver.execute(sessionSpec('no-macro'), 'SELECT twice(21)', new CollectingSink()).done).rejects.toThrow(/twice does not exist/);
    await expect(driver.explain(sessionSpec('no-macro'), 'SELECT * FROM marker')).rejects.toThrow(/marker does not exist/);
  });

  it('opens a fresh connection when the resourcesVersion changes', async () => {
    const v1 = sessionSpec('versioned', 'v1', { 'f.sql': 'CREATE TEMP MACRO f() AS 1' });
    const v2 = sessionSpec('versioned', 'v2', { 'f.sql': 'CREATE TEMP MACRO f() AS 2' });
    expect(await rowsOf(driver, v1, 'SELECT f()')).toEqual([[1]]);
    await rowsOf(driver, v1, 'CREATE TEMP TABLE left_behind AS SELECT 1');
    expect(await rowsOf(driver, v2, 'SELECT f()')).toEqual([[2]]);
    await expect(driver.explain(v2, 'SELECT * FROM left_behind')).rejects.toThrow(/left_behind does not exist/);
  });

  it('refuses files outside the warehouse folder, and settings that would widen access', async () => {
    const session = sessionSpec('confined');
    const refused = [
      "SELECT * FROM '../outside/secret.csv'",
      `SELECT * FROM '${join(outside, 'secret.csv')}'`,
      `SELECT * FROM read_csv('${join(outside, '*.csv')}')`,
      `SELECT * FROM read_text('/etc/hostname')`,
      `COPY (SELECT 1) TO '${join(outside, 'written.csv')}'`,
    ];
    for (const sql of refused) {
      await expect(driver.execute(session, sql, new CollectingSink()).done).rejects.toThrow(/Permission Error: Cannot access/);
    }
    await expect(driver.execute(session, 'SET enable_external_access = true', new CollectingSink()).done).rejects.toThrow(DriverQueryError);
    await expect(driver.execute(session, `SET allowed_directories = ['/']`, new CollectingSink()).done).rejects.toThrow(DriverQueryError);
    await expect(driver.execute(sessionSpec('confined-script', 'v1', { 'widen.sql': 'SET enable_external_access = true' }), 'SELECT 1', new CollectingSink()).done).rejects.toThrow(
      /init script widen.sql/,
    );
    expect(await rowsOf(driver, session, "SELECT count(*) FROM 'sales.parquet'")).toEqual([['1000']]);
  });

  it('refuses to write files, even inside the warehouse folder', async () => {
    const session = sessionSpec('writer');
    for (const sql of ["COPY (SELECT 1 AS x) TO 'sales.parquet' (FORMAT parquet)", "COPY (SELECT 1) TO 'new.csv'", "ATTACH 'new.db'", "EXPORT DATABASE 'dump'"]) {
      await expect(driver.execute(session, sql, new CollectingSink()).done).rejects.toThrow(DriverQueryError);
    }
    await expect(driver.explain(session, "COPY (SELECT 1) TO 'new.csv'")).rejects.toThrow('writing files (COPY ... TO) is not allowed on this server');
    const script = sessionSpec('writer-script', 'v1', { 'dump.sql': "COPY (SELECT 1) TO 'new.csv'" });
    await expect(driver.execute(script, 'SELECT 1', new CollectingSink()).done).rejects.toThrow(/init script dump.sql: COPY is not allowed/);
    expect(readdirSync(warehouse).sort()).toEqual(['nested', 'regions.csv', 'sales.parquet']);
    expect(await rowsOf(driver, session, "SELECT count(*) FROM 'sales.parquet'")).toEqual([['1000']]);
  });

  it('a runtime error rejects with DuckDB message, and the session goes on', async () => {
    const session = sessionSpec('failing');
    const failed = driver.execute(session, "SELECT CAST(name AS INTEGER) FROM 'regions.csv'", new CollectingSink()).done;
    await expect(failed).rejects.toBeInstanceOf(DriverQueryError);
    await expect(failed).rejects.toThrow(/Conversion Error/);
    expect(await rowsOf(driver, session, 'SELECT 1')).toEqual([[1]]);
  });

  it('refuses a syntax error or an unknown table at explain; explains and estimates a good query', async () => {
    const session = sessionSpec('planner');
    await expect(driver.explain(session, 'SELEC 1')).rejects.toThrow(/syntax error at or near "SELEC"/);
    await expect(driver.estimate(session, 'SELECT * FROM nowhere')).rejects.toThrow(/nowhere does not exist/);
    const plan = await driver.explain(session, "SELECT region, sum(amount) FROM 'sales.parquet' GROUP BY region");
    expect(plan.tablesQueried).toEqual(['sales.parquet']);
    expect(JSON.parse(plan.planString)[0].name).toBeDefined();
    const small = await driver.estimate(session, 'SELECT 1');
    const large = await driver.estimate(session, "SELECT * FROM 'sales.parquet' a, 'sales.parquet' b");
    expect(small).toEqual({ cost: 1, costType: 'VERY_LOW' });
    expect(large.cost).toBeGreaterThan(1_000_000);
  });

  it('runs only the one statement of the query text', async () => {
    const session = sessionSpec('injection');
    await expect(driver.execute(session, "SELECT 1; COPY (SELECT 1) TO 'dropped.csv'", new CollectingSink()).done).rejects.toThrow(/multiple statements/);
    await expect(driver.explain(session, 'SELECT 1; SELECT 2')).rejects.toThrow(/multiple statements/);
  });

  it('cancels a long query with the connection interrupt; the session goes on', async () => {
    const session = sessionSpec('long');
    await rowsOf(driver, session, 'SELECT 1');
    const execution = driver.execute(session, LONG_SCAN, new CollectingSink());
    await started();
    await execution.cancel();
    await expect(settlesWithin(execution.done, 5000, 'the canceled statement')).rejects.toBeInstanceOf(DriverCanceled);
    expect(await rowsOf(driver, session, 'SELECT 1')).toEqual([[1]]);
  });

  it('cancels between chunks while the sink is busy', async () => {
    const held = gate();
    const sink = new CollectingSink(false);
    const rows = sink.rows.bind(sink);
    sink.rows = (batch) => (rows(batch), held.opened);
    const execution = driver.execute(sessionSpec('held'), 'SELECT range FROM range(1000000)', sink);
    await waitFor('the first chunk', () => sink.batchSizes.length > 0);
    const canceled = execution.cancel();
    held.open();
    await canceled;
    await expect(execution.done).rejects.toBeInstanceOf(DriverCanceled);
    expect(sink.rowCount).toBeLessThan(1_000_000);
  });

  it('refuses enable_logging, which would break the instance for every session, however it is spelled', async () => {
    const session = sessionSpec('logging');
    const hidden = "SELECT * FROM query('SELECT * FROM enable' || '_logging(storage=''file'', storage_path=''/nowhere/logs'')')";
    await expect(driver.execute(session, hidden, new CollectingSink()).done).rejects.toThrow('enable_logging is not allowed on this server');
    await expect(driver.explain(session, 'SELECT * FROM enable_logging()')).rejects.toThrow('enable_logging is not allowed');
    const script = sessionSpec('logging-script', 'v1', { 'log.sql': "CREATE TEMP TABLE x AS SELECT * FROM query('SELECT 1')" });
    await expect(driver.execute(script, 'SELECT 1', new CollectingSink()).done).rejects.toThrow(/init script log.sql: query is not allowed/);
    expect(await rowsOf(driver, sessionSpec('after-logging'), 'SELECT 1')).toEqual([[1]]);
  });

  it('replaces a host that died, running the init scripts again', async () => {
    const before = hostProcesses();
    const own = new DuckDbDriver('duckdb', { warehouseDir: warehouse });
    try {
      const session = sessionSpec('revived', 'v1', { 'm.sql': 'CREATE TEMP MACRO twice(x) AS x * 2' });
      expect(await rowsOf(own, session, 'SELECT twice(1)')).toEqual([[2]]);
      const [pid] = hostProcesses().filter((p) => !before.includes(p));
      process.kill(pid, 'SIGKILL');
      // A statement sent before the driver heard of the exit fails; the next ones run on a new host.
      const rows = await waitFor('a statement on a new host', () => rowsOf(own, session, 'SELECT twice(2)'));
      expect(rows).toEqual([[4]]);
      expect(hostProcesses()).not.toContain(pid);
    } finally {
      await own.close();
    }
  });

  it('warns about jar resources it cannot load', () => {
    expect(driver.unsupportedResources(sessionSpec('jars', 'v1', {}, ['udfs.jar']))).toEqual(['duckdb cannot load jar resources: udfs.jar']);
  });

  it('close() stops running statements and the host process', async () => {
    const before = hostProcesses();
    const closing = new DuckDbDriver('duckdb', { warehouseDir: warehouse });
    try {
      await rowsOf(closing, sessionSpec('a'), 'SELECT 1');
      await rowsOf(closing, sessionSpec('b'), 'SELECT 1');
      expect(hostProcesses().filter((pid) => !before.includes(pid))).toHaveLength(1);
      const running = closing.execute(sessionSpec('b'), LONG_SCAN, new CollectingSink());
      await started();
      await closing.close();
      await expect(running.done).rejects.toBeInstanceOf(DriverCanceled);
      expect(hostProcesses().filter((pid) => !before.includes(pid))).toEqual([]);
      await expect(closing.execute(sessionSpec('a'), 'SELECT 1', new CollectingSink()).done).rejects.toThrow('driver is closed');
    } finally {
      await closing.close(); // again, when an expectation failed first: no host outlives the test
    }
  });

  it("keeps each session's catalog its own: nothing one session creates changes what another's query sees", async () => {
    const mallory = sessionSpec('mallory');
    const alice = sessionSpec('alice');
    for (const sql of ["CREATE OR REPLACE VIEW regions AS SELECT 'evil' AS code", "CREATE TABLE sales AS SELECT 'evil' AS id", 'CREATE MACRO twice(x) AS 0', 'CREATE SCHEMA s']) {
      await expect(driver.execute(mallory, sql, new CollectingSink()).done).rejects.toThrow(/read-only/);
    }
    // What a session may create lives in its own temp catalog, seen by it alone.
    await rowsOf(driver, mallory, "CREATE TEMP VIEW regions AS SELECT 'evil' AS code");
    expect(await rowsOf(driver, mallory, 'SELECT code FROM regions')).toEqual([['evil']]);
    await expect(driver.explain(alice, 'SELECT code FROM regions')).rejects.toThrow(/regions does not exist/);
    expect(await rowsOf(driver, alice, "SELECT code FROM 'regions.csv' ORDER BY code")).toEqual([['amer'], ['emea']]);
  });

  describe('result limits (QUARRY_RESULT_MAX_VALUE_BYTES, QUARRY_RESULT_MAX_ROW_BYTES)', () => {
    const MiB = 1024 * 1024;
    let limited: DuckDbDriver;
    beforeAll(() => (limited = new DuckDbDriver('duckdb', { warehouseDir: warehouse, limits: { maxValueBytes: MiB, maxRowBytes: 3 * MiB } })));
    afterAll(() => limited.close());

    it('fails a value or a row over its limit in the host, naming the limit; the session goes on', async () => {
      const session = sessionSpec('limits');
      await expect(limited.execute(session, `SELECT 1 AS id, repeat('v', ${2 * MiB}) AS v`, new CollectingSink()).done).rejects.toThrow(
        `a value of ${2 * MiB} bytes is larger than QUARRY_RESULT_MAX_VALUE_BYTES (${MiB} bytes)`,
      );
      const row = `SELECT ${[1, 2, 3, 4].map((i) => `repeat('${i}', ${MiB - 10}) AS c${i}`).join(', ')}`;
      await expect(limited.execute(session, row, new CollectingSink()).done).rejects.toThrow(`a row of ${4 * (MiB - 10) + 0} bytes is larger than QUARRY_RESULT_MAX_ROW_BYTES (${3 * MiB} bytes)`);
      // A nested value is measured as the JSON text it becomes.
      await expect(limited.execute(session, `SELECT [repeat('x', ${MiB})] AS list`, new CollectingSink()).done).rejects.toThrow(/a value of \d+ bytes is larger than QUARRY_RESULT_MAX_VALUE_BYTES/);
      expect(await rowsOf(limited, session, 'SELECT 42 AS n')).toEqual([[42]]);
    });

    it('sends a chunk of large rows in several replies, so no message holds thousands of them', async () => {
      const sink = new CollectingSink(false);
      const { rowCount } = await limited.execute(sessionSpec('wide'), `SELECT range AS i, repeat('w', ${MiB / 2}) AS w FROM range(100)`, sink).done;
      expect(rowCount).toBe(100);
      expect(Math.max(...sink.batchSizes)).toBeLessThanOrEqual(17);
    });

    it('fails a statement whose host dies under it, and the next statement runs on a new host', async () => {
      const before = hostProcesses();
      const own = new DuckDbDriver('duckdb', { warehouseDir: warehouse });
      try {
        const session = sessionSpec('crashing');
        await rowsOf(own, session, 'SELECT 1');
        const [pid] = hostProcesses().filter((p) => !before.includes(p));
        const running = own.execute(session, LONG_SCAN, new CollectingSink());
        await started();
        process.kill(pid, 'SIGKILL');
        await expect(running.done).rejects.toThrow(/duckdb host exited \(SIGKILL\)/);
        expect(await rowsOf(own, session, 'SELECT 2 AS two')).toEqual([[2]]);
      } finally {
        await own.close();
      }
    });
  });
});
