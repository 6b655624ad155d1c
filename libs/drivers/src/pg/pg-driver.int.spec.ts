import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createTestWarehouse, settlesWithin, waitFor, type TestWarehouse } from '@quarry/testing';
import { Client, Pool } from 'pg';
import { DriverCanceled, DriverQueryError } from '../driver';
import { CollectingSink, gate, rowsOf, sessionSpec } from '../test-support/sessions';
import { CursorOpening } from './cursor-opening';
import { PgDriver } from './pg-driver';

describe('PgDriver (real PostgreSQL)', () => {
  let db: TestWarehouse;
  let driver: PgDriver;

  /** Connections a driver holds on a test database (the test's own pool is not named quarry). */
  const driverConnections = async (on = db) =>
    (
      await on.pool.query<{ pid: number; state: string; sleeping: boolean; name: string; query: string }>(
        `SELECT pid, state, wait_event = 'PgSleep' AS sleeping, application_name AS name, query
         FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'quarry %'`,
        [on.name],
      )
    ).rows;

  beforeAll(async () => {
    db = await createTestWarehouse();
    await db.pool.query(`
      CREATE TABLE sales (id int PRIMARY KEY, region text, amount numeric(12, 2), sold_at date);
      INSERT INTO sales SELECT i, 'r' || (i % 5), i * 1.25, DATE '2024-01-01' + i FROM generate_series(1, 1000) i;
      CREATE SCHEMA tucked; CREATE TABLE tucked.away (n int);
      GRANT USAGE ON SCHEMA tucked TO ${db.readerRole}; GRANT SELECT ON tucked.away TO ${db.readerRole}`);
    driver = new PgDriver('pg', { warehouseUrl: db.readerUrl });
  });
  afterAll(async () => {
    await driver.close();
    await db.drop();
  });

  it('reads rows with Lens column types and JSON-friendly values', async () => {
    const sink = new CollectingSink();
    const sql = `SELECT 7::int AS i, 9007199254740993::bigint AS b, 3::smallint AS s, 1.5::float8 AS d, 2.5::float4 AS f,
      12345678901234567890.12::numeric AS n, 'x'::text AS t, true AS ok, DATE '2024-02-03' AS day,
      TIMESTAMP '2024-02-03 04:05:06.789' AS ts, TIMESTAMPTZ '2024-02-03 04:05:06.5+02' AS tz, '\\xaa01'::bytea AS bin,
      '{"a": 1}'::json AS j, 'NaN'::float8 AS nan, NULL::int AS nothing`;
    const { rowCount } = await driver.execute(sessionSpec('types'), sql, sink).done;
    expect(rowCount).toBe(1);
    expect(sink.columnsSeen.map((c) => `${c.name}:${c.type}`)).toEqual([
      'i:INT', 'b:BIGINT', 's:SMALLINT', 'd:DOUBLE', 'f:FLOAT', 'n:DECIMAL', 't:STRING', 'ok:BOOLEAN', 'day:DATE',
      'ts:TIMESTAMP', 'tz:TIMESTAMP', 'bin:BINARY', 'j:STRING', 'nan:DOUBLE', 'nothing:INT',
    ]);
    expect(sink.rowsSeen[0]).toEqual([
      7, '9007199254740993', 3, 1.5, 2.5, '12345678901234567890.12', 'x', true, '2024-02-03',
      '2024-02-03T04:05:06.789', '2024-02-03T02:05:06.5Z', '\\xaa01', '{"a": 1}', 'NaN', null,
    ]);
    expect(await rowsOf(driver, sessionSpec('types'), 'SELECT id, region, amount, sold_at FROM sales ORDER BY id LIMIT 2')).toEqual([
      [1, 'r1', '1.25', '2024-01-02'],
      [2, 'r2', '2.50', '2024-01-03'],
    ]);
  });

  it('streams 200,000 rows in batches from a cursor, never all at once', async () => {
    const sink = new CollectingSink(false);
    const { rowCount } = await driver.execute(sessionSpec('big'), 'SELECT i, md5(i::text) FROM generate_series(1, 200000) i', sink).done;
    expect(rowCount).toBe(200_000);
    expect(sink.rowCount).toBe(200_000);
    expect(sink.batchSizes.length).toBeGreaterThanOrEqual(200);
    expect(Math.max(...sink.batchSizes)).toBeLessThanOrEqual(1000);
  });

  describe('exportCsv (COPY ... TO STDOUT)', () => {
    const exportOf = async (sql: string, header = false, session = sessionSpec('csv')) => {
      const chunks: Buffer[] = [];
      let columns: { name: string; type: string }[] = [];
      const { rowCount } = await driver.exportCsv(session, sql, { columns: (c) => void (columns = c), write: async (chunk) => void chunks.push(chunk) }, { header }).done;
      return { rowCount, columns, text: Buffer.concat(chunks).toString('utf8') };
    };

    it('writes the CSV PostgreSQL writes, with the columns typed before the first byte and the row count', async () => {
      const sql = `SELECT i AS id, CASE WHEN i = 2 THEN NULL WHEN i = 3 THEN '' ELSE 'a,"b"' || chr(10) || i END AS label, i % 2 = 0 AS even
                   FROM generate_series(1, 3) i ORDER BY i`;
      expect(await exportOf(sql, true)).toEqual({
        rowCount: 3,
        columns: [
          { name: 'id', type: 'INT' },
          { name: 'label', type: 'STRING' },
          { name: 'even', type: 'BOOLEAN' },
        ],
        text: 'id,label,even\n1,"a,""b""\n1",f\n2,,t\n3,"",f\n',
      });
      expect((await exportOf('SELECT id FROM sales WHERE id > 998 ORDER BY id -- a trailing comment')).text).toBe('999\n1000\n');
    });

    it('refuses text that is not one query, so nothing gets outside the parentheses around it', async () => {
      const target = `/tmp/quarry-copy-${process.pid}.csv`;
      await expect(exportOf(`SELECT 1) TO '${target}' WITH (FORMAT csv) --`)).rejects.toBeInstanceOf(DriverQueryError);
      await expect(exportOf('SELECT 1; SELECT 2')).rejects.toBeInstanceOf(DriverQueryError);
      expect(existsSync(target)).toBe(false);
      await expect(exportOf('SELEC 1')).rejects.toThrow('syntax error');
      expect((await exportOf('SELECT 42')).text).toBe('42\n');
    });

    it('cancels a long COPY: DriverCanceled, and the backend stops running it', async () => {
      const execution = driver.exportCsv(sessionSpec('csv-cancel'), 'SELECT pg_sleep(30)', { columns: () => undefined, write: async () => undefined }, { header: false });
      await waitFor('the COPY to run', async () => (await driverConnections()).some((c) => c.sleeping));
      await execution.cancel();
      await expect(execution.done).rejects.toBeInstanceOf(DriverCanceled);
      await waitFor('the backend to stop sleeping', async () => !(await driverConnections()).some((c) => c.sleeping));
    });
  });

  it('runs .sql init scripts on the session connection first; another session does not see them', async () => {
    const withScript = sessionSpec('scripted', 'v1', {
      'factor.sql': "SET quarry.factor = '2'; SET search_path TO tucked, public;",
      'notes.txt': 'not a script',
    });
    expect(await rowsOf(driver, withScript, "SELECT 21 * current_setting('quarry.factor')::int")).toEqual([[42]]);
    const [[pid]] = await rowsOf(driver, withScript, 'SELECT pg_backend_pid()');
    expect(await rowsOf(driver, withScript, 'SELECT pg_backend_pid(), count(*) FROM away')).toEqual([[pid, '0']]);

    const other = sessionSpec('plain');
    expect(await rowsOf(driver, other, "SELECT current_setting('quarry.factor', true)")).toEqual([[null]]);
    await expect(driver.explain(other, 'SELECT * FROM away')).rejects.toThrow('relation "away" does not exist');
  });

  it('opens a fresh connection when the resourcesVersion changes, and closes the old one', async () => {
    const v1 = sessionSpec('versioned', 'v1', { 'f.sql': "SET quarry.f = '1'" });
    const v2 = sessionSpec('versioned', 'v2', { 'f.sql': "SET quarry.f = '2'" });
    const [[pid1, f1]] = await rowsOf(driver, v1, "SELECT pg_backend_pid(), current_setting('quarry.f')");
    const [[pid2, f2]] = await rowsOf(driver, v2, "SELECT pg_backend_pid(), current_setting('quarry.f')");
    expect([f1, f2]).toEqual(['1', '2']);
    expect(pid2).not.toBe(pid1);
    await waitFor('the v1 connection to close', async () => !(await driverConnections()).some((c) => c.pid === pid1));
  });

  it('cancels pg_sleep(30): the execution ends with DriverCanceled and the backend stops running it', async () => {
    const session = sessionSpec('sleepy');
    const execution = driver.execute(session, 'SELECT pg_sleep(30)', new CollectingSink());
    // A shared connection (the session has no init scripts), running pg_sleep (the statement is the cursor's FETCH).
    const sleeping = () => driverConnections().then((rows) => rows.some((r) => r.name === 'quarry local shared' && r.state === 'active' && r.sleeping));
    await waitFor('pg_sleep(30) to run', sleeping);

    await execution.cancel();
    await expect(settlesWithin(execution.done, 5000, 'the canceled statement')).rejects.toBeInstanceOf(DriverCanceled);
    await waitFor('pg_sleep(30) to stop', async () => !(await sleeping()));
    // The session's connection is left clean for its next statement.
    expect(await rowsOf(driver, session, 'SELECT 1')).toEqual([[1]]);
  });

  it('fails a statement whose warehouse connection is terminated, saying so; the session goes on on a new connection', async () => {
    const session = sessionSpec('terminated');
    const execution = driver.execute(session, 'SELECT pg_sleep(30)', new CollectingSink());
    const backend = await waitFor('pg_sleep(30) to run', async () => (await driverConnections()).find((r) => r.state === 'active' && r.sleeping));
    // Only this backend: the test's own pool shares the database.
    await db.pool.query('SELECT pg_terminate_backend($1)', [backend.pid]);

    const failure = await execution.done.catch((error: Error) => error);
    expect(failure).toBeInstanceOf(DriverQueryError);
    expect(failure).toMatchObject({ driver: 'pg', message: 'the warehouse connection was lost (terminating connection due to administrator command)' });
    const [[pid]] = await rowsOf(driver, session, 'SELECT pg_backend_pid()');
    expect(pid).not.toBe(backend.pid);
  });

  it('plans again on a fresh connection when the warehouse ends the one planning', async () => {
    // The EXPLAIN waits for a lock the test holds, so its backend can be terminated mid-plan.
    const locker = await db.pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE sales IN ACCESS EXCLUSIVE MODE');
      const planned = driver.explain(sessionSpec('replanned'), 'SELECT * FROM sales');
      const waiting = async () =>
        (
          await db.pool.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'quarry %' AND wait_event_type = 'Lock' AND query LIKE 'EXPLAIN%'`,
            [db.name],
          )
        ).rows.map((r) => r.pid);
      const first = await waitFor('the EXPLAIN to wait for the lock', async () => (await waiting())[0]);
      await db.pool.query('SELECT pg_terminate_backend($1)', [first]);
      await waitFor('the EXPLAIN to wait again, on another connection', async () => (await waiting()).some((pid) => pid !== first));
      await locker.query('COMMIT');
      expect((await planned).tablesQueried).toEqual(['sales']);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      locker.release();
    }
  });

  it('plans while the session runs a long statement, on a short-lived connection with its init scripts', async () => {
    const session = sessionSpec('busy', 'v1', { 'path.sql': 'SET search_path TO tucked, public' });
    const execution = driver.execute(session, 'SELECT pg_sleep(30)', new CollectingSink());
    await waitFor('pg_sleep(30) to run', () => driverConnections().then((rows) => rows.some((r) => r.name === 'quarry local busy' && r.sleeping)));
    expect((await driver.explain(session, 'SELECT * FROM away, sales')).tablesQueried.sort()).toEqual(['away', 'sales']);
    await execution.cancel();
    await expect(execution.done).rejects.toBeInstanceOf(DriverCanceled);
  });

  it('stops what an ended node incarnation left running (abandon), and only that', async () => {
    const [gone, alive] = [randomUUID(), randomUUID()];
    // As the reader role: a role may end its own backends, no more privilege needed.
    const dead = new PgDriver('pg', { warehouseUrl: db.readerUrl, incarnation: gone });
    const live = new PgDriver('pg', { warehouseUrl: db.readerUrl, incarnation: alive });
    try {
      const orphan = dead.execute(sessionSpec('orphan'), 'SELECT pg_sleep(30)', new CollectingSink());
      const kept = live.execute(sessionSpec('kept'), 'SELECT pg_sleep(30)', new CollectingSink());
      const sleepers = async () => (await driverConnections()).filter((r) => r.sleeping).map((r) => r.name.split(' ')[1]);
      const tag = (incarnation: string) => incarnation.replace(/-/g, '').slice(0, 12);
      await waitFor('both to sleep', async () => (await sleepers()).length === 2);
      expect(await live.abandon(gone)).toBe(1);
      await expect(settlesWithin(orphan.done, 5000, 'the abandoned statement')).rejects.toThrow();
      expect(await sleepers()).toEqual([tag(alive)]);
      await kept.cancel();
      await expect(kept.done).rejects.toBeInstanceOf(DriverCanceled);
    } finally {
      await dead.close();
      await live.close();
    }
  });

  it('cancels between batches while the sink is busy', async () => {
    const held = gate();
    const sink = new CollectingSink(false);
    const rows = sink.rows.bind(sink);
    sink.rows = (batch) => (rows(batch), held.opened);
    const execution = driver.execute(sessionSpec('held'), 'SELECT i FROM generate_series(1, 100000) i', sink);
    await waitFor('the first batch', () => sink.batchSizes.length > 0);
    const canceled = execution.cancel();
    held.open();
    await canceled;
    await expect(execution.done).rejects.toBeInstanceOf(DriverCanceled);
    expect(sink.rowCount).toBeLessThan(100_000);
  });

  it('a runtime error rejects with PostgreSQL message, and the session goes on', async () => {
    const session = sessionSpec('failing');
    const failed = driver.execute(session, 'SELECT 1 / (id - 500) FROM sales ORDER BY id', new CollectingSink()).done;
    await expect(failed).rejects.toBeInstanceOf(DriverQueryError);
    await expect(failed).rejects.toThrow('division by zero');
    expect(await rowsOf(driver, session, 'SELECT count(*) FROM sales')).toEqual([['1000']]);
  });

  it('refuses a syntax error or an unknown table at explain, with PostgreSQL message', async () => {
    const session = sessionSpec('planner');
    await expect(driver.explain(session, 'SELEC 1')).rejects.toThrow(new DriverQueryError('pg', 'syntax error at or near "SELEC"'));
    await expect(driver.estimate(session, 'SELECT * FROM nowhere')).rejects.toThrow('relation "nowhere" does not exist');
  });

  it('explains with the JSON plan and the tables read; estimates from the total cost', async () => {
    const session = sessionSpec('planner');
    const plan = await driver.explain(session, 'SELECT s.region, count(*) FROM sales s JOIN sales t ON t.id = s.id GROUP BY 1');
    expect(plan.tablesQueried).toEqual(['sales']);
    expect(JSON.parse(plan.planString)[0].Plan['Node Type']).toBeDefined();
    const small = await driver.estimate(session, 'SELECT 1');
    const large = await driver.estimate(session, 'SELECT * FROM sales a, sales b');
    expect(small.costType).toBe('VERY_LOW');
    expect(large.cost).toBeGreaterThan(small.cost);
  });

  it('runs only the one statement of the query text', async () => {
    const session = sessionSpec('injection');
    await expect(driver.execute(session, 'SELECT 1; DROP TABLE sales', new CollectingSink()).done).rejects.toThrow('cannot insert multiple commands');
    await expect(driver.explain(session, 'SELECT 1; DROP TABLE sales')).rejects.toThrow('cannot insert multiple commands');
    expect(await rowsOf(driver, session, 'SELECT count(*) FROM sales')).toEqual([['1000']]);
  });

  it('runs the statements of a session with init scripts one at a time, in order, on its own connection', async () => {
    const session = sessionSpec('ordered', 'v1', { 'path.sql': 'SET search_path TO tucked, public' });
    const finished: string[] = [];
    const first = driver.execute(session, 'SELECT pg_sleep(0.3), pg_backend_pid()', new CollectingSink()).done.then(() => finished.push('first'));
    const second = driver.execute(session, 'SELECT 2', new CollectingSink()).done.then(() => finished.push('second'));
    await Promise.all([first, second]);
    expect(finished).toEqual(['first', 'second']);
  });

  it('warns about jar and archive resources it cannot load', () => {
    const session = sessionSpec('jars', 'v1', { 'init.sql': 'SELECT 1' }, ['udfs.jar']);
    session.resources.push({ type: 'archive', path: 'libs.tgz', sha256: 'x' });
    expect(driver.unsupportedResources(session)).toEqual(['pg cannot load jar resources: udfs.jar', 'pg cannot load archive resources: libs.tgz']);
  });

  it('fails a statement whose init script fails, naming the script', async () => {
    const session = sessionSpec('broken-script', 'v1', { 'bad.sql': 'CREATE FUNCTON nope()' });
    await expect(driver.execute(session, 'SELECT 1', new CollectingSink()).done).rejects.toThrow(/init script bad.sql: syntax error/);
  });

  it('close() ends every connection it opened, shared and own, running statements\' too', async () => {
    const own = await createTestWarehouse();
    try {
      const closing = new PgDriver('pg', { warehouseUrl: own.readerUrl });
      const scripted = sessionSpec('c', 'v1', { 'path.sql': 'SET search_path TO public' });
      // Two at once on shared connections (two of them), and a session of its own.
      await Promise.all([rowsOf(closing, sessionSpec('a'), 'SELECT 1'), rowsOf(closing, sessionSpec('b'), 'SELECT 1'), rowsOf(closing, scripted, 'SELECT 1')]);
      const canceled = closing.execute(sessionSpec('a'), 'SELECT pg_sleep(30)', new CollectingSink());
      await waitFor('pg_sleep to run', async () => (await driverConnections(own)).some((c) => c.sleeping));
      await canceled.cancel();
      await expect(canceled.done).rejects.toBeInstanceOf(DriverCanceled);
      const running = [closing.execute(sessionSpec('d'), 'SELECT pg_sleep(30)', new CollectingSink()), closing.execute(scripted, 'SELECT pg_sleep(30)', new CollectingSink())];
      await waitFor('both pg_sleeps to run', async () => (await driverConnections(own)).filter((c) => c.sleeping).length === 2);
      // Two shared (one running), the scripted session's (running), and the connection pg_cancel_backend went through.
      expect((await driverConnections(own)).map((c) => c.name).sort()).toEqual(['quarry cancel', 'quarry local c', 'quarry local shared', 'quarry local shared']);

      await closing.close();
      for (const execution of running) await expect(execution.done).rejects.toThrow();
      await waitFor('every driver connection to close', async () => (await driverConnections(own)).length === 0);
      await expect(closing.execute(sessionSpec('a'), 'SELECT 1', new CollectingSink()).done).rejects.toThrow('driver is closed');
      await expect(closing.execute(scripted, 'SELECT 1', new CollectingSink()).done).rejects.toThrow('driver is closed');
    } finally {
      await own.drop();
    }
  });

  describe('shared connections (sessions without init scripts)', () => {
    const sleepers = async () => (await driverConnections()).filter((c) => c.sleeping);

    it('runs concurrent statements of one session side by side, on different connections', async () => {
      const session = sessionSpec('side-by-side');
      const both = [driver.execute(session, 'SELECT pg_sleep(30)', new CollectingSink()), driver.execute(session, 'SELECT pg_sleep(30)', new CollectingSink())];
      const running = await waitFor('both statements to sleep at once', async () => ((await sleepers()).length === 2 ? await sleepers() : undefined));
      expect(new Set(running.map((c) => c.pid)).size).toBe(2);
      expect(running.map((c) => c.name)).toEqual(['quarry local shared', 'quarry local shared']);
      for (const execution of both) await execution.cancel();
      for (const execution of both) await expect(execution.done).rejects.toBeInstanceOf(DriverCanceled);
    });

    it('plans and runs without a new warehouse connection per statement, also while the session runs a long one', async () => {
      const session = sessionSpec('steady');
      const long = driver.execute(session, 'SELECT pg_sleep(30)', new CollectingSink());
      await waitFor('pg_sleep(30) to run', async () => (await sleepers()).length === 1);
      // Warm: a connection besides the sleeping one.
      await driver.estimate(session, 'SELECT 1');
      const connects = jest.spyOn(Client.prototype, 'connect');
      try {
        for (let i = 0; i < 10; i++) {
          for (const id of ['steady', `other-${i}`]) {
            expect((await driver.estimate(sessionSpec(id), 'SELECT id FROM sales')).cost).toBeGreaterThan(0);
            expect(await rowsOf(driver, sessionSpec(id), `SELECT ${i}`)).toEqual([[i]]);
          }
        }
        expect(connects).not.toHaveBeenCalled();
      } finally {
        connects.mockRestore();
      }
      await long.cancel();
      await expect(long.done).rejects.toBeInstanceOf(DriverCanceled);
    });

    it('never holds more than sharedMax connections: a burst of plans shares the one a long statement leaves free', async () => {
      const own = await createTestWarehouse();
      const two = new PgDriver('pg', { warehouseUrl: own.readerUrl, sharedMax: 2 });
      try {
        const long = two.execute(sessionSpec('long'), 'SELECT pg_sleep(30)', new CollectingSink());
        await waitFor('pg_sleep(30) to run', async () => (await driverConnections(own)).some((c) => c.sleeping));
        const plans = await Promise.all(Array.from({ length: 20 }, (_, i) => two.estimate(sessionSpec(`burst-${i % 4}`), `SELECT ${i}`)));
        expect(plans.every((p) => p.costType === 'VERY_LOW')).toBe(true);
        expect((await driverConnections(own)).filter((c) => c.name === 'quarry local shared')).toHaveLength(2);
        await long.cancel();
        await expect(long.done).rejects.toBeInstanceOf(DriverCanceled);
      } finally {
        await two.close();
        await own.drop();
      }
    });

    it('leaves nothing of one session\'s statement on the connection for the next session\'s', async () => {
      const single = new PgDriver('pg', { warehouseUrl: db.readerUrl, sharedMax: 1 });
      try {
        const [[, pid]] = await rowsOf(single, sessionSpec('setter'), "SELECT set_config('quarry.left', 'behind', false), pg_backend_pid()");
        // Rolled back with its transaction: the next session on the same backend does not see it, nor do plans.
        expect(await rowsOf(single, sessionSpec('reader'), "SELECT coalesce(current_setting('quarry.left', true), ''), pg_backend_pid()")).toEqual([['', pid]]);
        await rowsOf(single, sessionSpec('setter'), "SELECT set_config('statement_timeout', '0', false), set_config('default_transaction_read_only', 'off', false)");
        expect(await rowsOf(single, sessionSpec('reader'), "SELECT current_setting('transaction_read_only'), current_setting('default_transaction_read_only')")).toEqual([['on', 'on']]);
        // A session-level advisory lock outlives a rollback: released before the connection serves anyone else.
        await rowsOf(single, sessionSpec('setter'), 'SELECT pg_advisory_lock(4343)');
        expect(await rowsOf(single, sessionSpec('reader'), `SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()`)).toEqual([[0]]);
      } finally {
        await single.close();
      }
    });

    it('keeps a shared connection until a cancel sent to it is answered, so the cancel cannot stop the next statement on it', async () => {
      const single = new PgDriver('pg', { warehouseUrl: db.readerUrl, sharedMax: 1 });
      // The driver's pg_cancel_backend, held back until the test lets it through.
      const cancelHeld = gate();
      const query = Pool.prototype.query;
      const held = jest.spyOn(Pool.prototype, 'query').mockImplementation(function (this: Pool, ...args: unknown[]) {
        const send = () => (query as (...a: unknown[]) => unknown).apply(this, args);
        return String(args[0]).includes('pg_cancel_backend') ? cancelHeld.opened.then(send) : send();
      } as typeof Pool.prototype.query);
      const locker = await db.pool.connect();
      try {
        await locker.query('SELECT pg_advisory_lock(4242)');
        const first = single.execute(sessionSpec('first'), 'SELECT 1 AS n FROM (SELECT pg_advisory_xact_lock_shared(4242)) locked', new CollectingSink());
        await waitFor('the first statement to wait for the lock', async () => (await driverConnections()).some((c) => c.name === 'quarry local shared' && c.query.startsWith('FETCH') && c.state === 'active'));
        // Next in line for the one connection; long enough for a late cancel to land on it.
        const nextRows = new CollectingSink();
        const next = single.execute(sessionSpec('next'), 'SELECT 2 FROM pg_sleep(0.5)', nextRows);
        const canceling = first.cancel();
        // The statement ends by itself while its cancel is on the way.
        await locker.query('SELECT pg_advisory_unlock(4242)');
        // Held: the first transaction idles until its cancel is answered. (Handed on too early, the next statement would be sleeping.)
        const heldOrHandedOn = async () =>
          (await driverConnections()).some((c) => c.name === 'quarry local shared' && ((c.state === 'idle in transaction' && c.query.startsWith('FETCH')) || c.sleeping));
        await waitFor('the first transaction to wait for its cancel', heldOrHandedOn);
        cancelHeld.open();
        await canceling;
        await expect(first.done).resolves.toEqual({ rowCount: 1 });
        await expect(next.done).resolves.toEqual({ rowCount: 1 });
        expect(nextRows.rowsSeen).toEqual([[2]]);
      } finally {
        held.mockRestore();
        locker.release();
        await single.close();
      }
    });
  });

  describe('the rollback after a statement, owed to the connection next use', () => {
    it('answers with its transaction open, and rolls it back once the connection idles, advisory locks too', async () => {
      const incarnation = randomUUID();
      const single = new PgDriver('pg', { warehouseUrl: db.readerUrl, sharedMax: 1, incarnation });
      const mine = async () => (await driverConnections()).filter((c) => c.name.startsWith(`quarry ${incarnation.replace(/-/g, '').slice(0, 12)} `));
      const query = jest.spyOn(Client.prototype, 'query');
      // The driver's statements (the test's own pool reads pg_stat_activity through Client#query too).
      const sent = () => query.mock.calls.map(([statement]) => (statement instanceof CursorOpening ? 'opening' : String(statement))).filter((s) => s === 'opening' || s.startsWith('ROLLBACK'));
      try {
        const [[pid]] = await rowsOf(single, sessionSpec('locker'), 'SELECT pg_backend_pid() FROM (SELECT pg_advisory_lock(4545)) taken');
        expect(sent()).toEqual(['opening']);
        expect((await mine()).map((c) => c.state)).toEqual(['idle in transaction']);
        // Idle, it is rolled back on its own: its transaction and its lock gone, nothing else sent.
        await waitFor('the idle connection to roll back', async () => (await mine()).every((c) => c.state === 'idle'));
        expect((await db.pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = $1`, [pid])).rows).toEqual([{ n: 0 }]);
        expect(sent()).toEqual(['opening', 'ROLLBACK; SELECT pg_advisory_unlock_all()']);
      } finally {
        query.mockRestore();
        await single.close();
      }
    });

    it.each([
      ['a shared connection', sessionSpec('shared-first'), sessionSpec('shared-next')],
      ['a session with init scripts', sessionSpec('scripted', 'v1', { 'init.sql': 'SET search_path TO public' }), sessionSpec('scripted', 'v1', { 'init.sql': 'SET search_path TO public' })],
    ])('sends it first in the next opening on %s, and plans after it', async (_, first, next) => {
      const single = new PgDriver('pg', { warehouseUrl: db.readerUrl, sharedMax: 1 });
      const query = jest.spyOn(Client.prototype, 'query');
      try {
        expect(await rowsOf(single, first, 'SELECT 1 AS n')).toEqual([[1]]);
        expect(await rowsOf(single, next, 'SELECT 2 AS n')).toEqual([[2]]);
        expect((await single.estimate(next, 'SELECT 3')).cost).toBeGreaterThan(0);
        const sent = query.mock.calls.map(([statement]) => (statement instanceof CursorOpening ? statement : String(typeof statement === 'string' ? statement : (statement as { text: string }).text)));
        const openings = sent.filter((s): s is CursorOpening => s instanceof CursorOpening);
        // One round trip each: the second opening carries the first statement's rollback.
        expect(openings.map((o) => o.statements[0])).toEqual(['BEGIN READ ONLY', 'ROLLBACK']);
        expect(sent.slice(-2)).toEqual(['ROLLBACK; SELECT pg_advisory_unlock_all()', 'EXPLAIN (FORMAT JSON) SELECT 3']);
      } finally {
        query.mockRestore();
        await single.close();
      }
    });
  });

  describe('result limits (QUARRY_RESULT_MAX_VALUE_BYTES, QUARRY_RESULT_MAX_ROW_BYTES)', () => {
    const MiB = 1024 * 1024;
    let limited: PgDriver;
    beforeAll(() => (limited = new PgDriver('pg', { warehouseUrl: db.readerUrl, limits: { maxValueBytes: MiB, maxRowBytes: 3 * MiB, maxBatchBytes: 6 * MiB } })));
    afterAll(() => limited.close());

    const intoCsv = (on: PgDriver, session: string, sql: string) =>
      on.exportCsv(sessionSpec(session), sql, { columns: () => undefined, write: async () => undefined }, { header: false }).done;

    it('fails a 600 MB value at the default limit, as a statement failure, and the session runs its next statement', async () => {
      // Before the limits, pg-protocol threw "Cannot create a string longer than 0x1fffffe8 characters" in the socket's data handler: the process exited.
      await expect(driver.execute(sessionSpec('huge'), "SELECT repeat('x', 600000000) AS v", new CollectingSink()).done).rejects.toThrow(
        /a value of 600000000 bytes is larger than QUARRY_RESULT_MAX_VALUE_BYTES \(67108864 bytes\)/,
      );
      expect(await rowsOf(driver, sessionSpec('huge'), 'SELECT 1 AS one')).toEqual([[1]]);
    });

    it('fails a value over the limit and a row over the limit, through a cursor and through COPY, naming the limit', async () => {
      const value = `SELECT 1 AS id, repeat('v', ${2 * MiB}) AS v`;
      const row = `SELECT ${[1, 2, 3, 4].map((i) => `repeat('${i}', ${MiB - 10}) AS c${i}`).join(', ')}`;
      const valueError = /a value of \d+ bytes is larger than QUARRY_RESULT_MAX_VALUE_BYTES \(1048576 bytes\)/;
      const csvValueError = /a value of at least 1048577 bytes is larger than QUARRY_RESULT_MAX_VALUE_BYTES \(1048576 bytes\)/;
      const rowError = /a row of \d+ bytes is larger than QUARRY_RESULT_MAX_ROW_BYTES \(3145728 bytes\)/;
      await expect(limited.execute(sessionSpec('limits'), value, new CollectingSink()).done).rejects.toThrow(`a value of ${2 * MiB} bytes`);
      await expect(intoCsv(limited, 'limits', value)).rejects.toThrow(csvValueError);
      await expect(limited.execute(sessionSpec('limits'), row, new CollectingSink()).done).rejects.toThrow(rowError);
      await expect(intoCsv(limited, 'limits', row)).rejects.toThrow(rowError);
      // A quoted CSV value is measured without its quotes, and just under the limit passes.
      const fits = `SELECT repeat('"', ${MiB - 1}) AS q, 2 AS n`;
      expect(await rowsOf(limited, sessionSpec('limits'), fits)).toEqual([['"'.repeat(MiB - 1), 2]]);
      await expect(intoCsv(limited, 'limits', fits)).resolves.toEqual({ rowCount: 1 });
      await expect(intoCsv(limited, 'limits', `SELECT repeat('"', ${MiB + 1}) AS q`)).rejects.toThrow(csvValueError);
      await expect(limited.execute(sessionSpec('limits'), `SELECT repeat('"', ${MiB + 1}) AS q`, new CollectingSink()).done).rejects.toThrow(valueError);
    });
  });

  describe('one FETCH within the batch budget (QUARRY_RESULT_MAX_BATCH_BYTES)', () => {
    const MiB = 1024 * 1024;
    const budget = 4 * MiB;
    let budgeted: PgDriver;
    let query: jest.SpyInstance;
    beforeAll(() => (budgeted = new PgDriver('pg', { warehouseUrl: db.readerUrl, limits: { maxValueBytes: MiB, maxRowBytes: MiB, maxBatchBytes: budget } })));
    afterAll(() => budgeted.close());
    // Every statement the drivers send goes through Client#query: the FETCHes are counted there, as
    // sent (a query's first FETCH goes with its transaction's opening, CursorOpening).
    beforeEach(() => (query = jest.spyOn(Client.prototype, 'query')));
    afterEach(() => query.mockRestore());
    const textOf = (statement: unknown) =>
      statement instanceof CursorOpening ? statement.fetch : String(typeof statement === 'string' ? statement : (statement as { text: string }).text);
    const fetchesSent = () =>
      query.mock.calls.map(([statement]) => textOf(statement)).filter((text) => text.startsWith('FETCH')).map((text) => Number(text.split(' ')[1]));

    /** Bytes of each batch the sink got, counted as the text of its values. */
    class BatchBytesSink extends CollectingSink {
      batchBytes: number[] = [];
      override rows(batch: unknown[][]): void {
        this.batchBytes.push(batch.reduce((sum: number, row) => sum + row.reduce((bytes: number, value) => bytes + Buffer.byteLength(String(value)), 0), 0));
        super.rows(batch);
      }
    }

    it('streams rows longer together than the budget in FETCHes sized to fit it, every row delivered', async () => {
      const sink = new BatchBytesSink();
      const rowBytes = 512 * 1024;
      const { rowCount } = await budgeted.execute(sessionSpec('budget'), `SELECT g AS id, repeat('x', ${rowBytes}) AS v FROM generate_series(1, 100) g`, sink).done;
      expect(rowCount).toBe(100);
      expect(sink.rowsSeen.map(([id, v]) => [id, String(v).length])).toEqual(Array.from({ length: 100 }, (_, i) => [i + 1, rowBytes]));
      expect(sink.batchBytes.reduce((a, b) => a + b)).toBeGreaterThan(10 * budget);
      expect(Math.max(...sink.batchBytes)).toBeLessThanOrEqual(budget);
      // Before any row: 4 rows at the 1 MiB row limit; then as many rows as the longest seen (512 KiB and its framing) fit in 4 MiB: 7.
      expect(fetchesSent()).toEqual([4, ...Array<number>(14).fill(7)]);
    });

    it('asks for fetchRows rows again once the rows are seen to be short; SELECT 1 is one FETCH', async () => {
      await budgeted.execute(sessionSpec('budget'), 'SELECT g FROM generate_series(1, 3000) g', new CollectingSink(false)).done;
      expect(fetchesSent()).toEqual([4, 1000, 1000, 1000]);
      query.mockClear();
      expect(await rowsOf(budgeted, sessionSpec('budget'), 'SELECT 1 AS one')).toEqual([[1]]);
      expect(await rowsOf(driver, sessionSpec('budget'), 'SELECT 1 AS one')).toEqual([[1]]);
      // At the default limits (256 MiB, rows of 128 MiB): two rows, so a one-row result still needs one FETCH.
      expect(fetchesSent()).toEqual([4, 2]);
    });

    it('runs a one-row query in one round trip: the opening (the last rollback, transaction, cursor, first FETCH)', async () => {
      await rowsOf(driver, sessionSpec('round-trips'), 'SELECT 1 AS one');
      query.mockClear();
      expect(await rowsOf(driver, sessionSpec('round-trips'), 'SELECT 1 AS one')).toEqual([[1]]);
      expect(query.mock.calls.map(([statement]) => (statement instanceof CursorOpening ? 'opening' : textOf(statement)))).toEqual(['opening']);
    });

    it('fails a statement whose rows grow past what its FETCH was sized for, naming the budget; the session runs its next statement', async () => {
      const sql = `SELECT g AS id, CASE WHEN g <= 10 THEN 'short' ELSE repeat('x', ${512 * 1024}) END AS v FROM generate_series(1, 100) g`;
      const sink = new BatchBytesSink();
      await expect(budgeted.execute(sessionSpec('grows'), sql, sink).done).rejects.toThrow(
        /^a batch of rows of at least \d+ bytes is larger than QUARRY_RESULT_MAX_BATCH_BYTES \(4194304 bytes\) allows/,
      );
      // The FETCH sized by the short rows was refused before it gathered more than the budget.
      expect([sink.rowCount, fetchesSent()]).toEqual([4, [4, 1000]]);
      expect(await rowsOf(budgeted, sessionSpec('grows'), 'SELECT 2 AS two')).toEqual([[2]]);
    });
  });
});
