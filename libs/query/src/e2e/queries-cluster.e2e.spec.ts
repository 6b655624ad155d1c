import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, createTestDatabase, createTestWarehouse, LensClient, testEnv, uniqueTopicPrefix, waitFor, type OpenedSession, type TestDatabase, type TestWarehouse } from '@quarry/testing';
import { canMove, type QueryStatus } from '../domain/query-status';

interface LensQueryJson {
  lensQuery: {
    queryHandle: { handleId: string };
    selectedDriverName?: string;
    status: { status: QueryStatus; queueNumber?: number; errorMessage?: string; isResultSetAvailable?: boolean };
  };
}

/** True when `seen` could be what a poller saw of one legal run of Lens's state machine. */
function isLensPath(seen: QueryStatus[]): boolean {
  const reachable = (from: QueryStatus, to: QueryStatus): boolean => {
    const frontier = [from];
    const visited = new Set<QueryStatus>();
    while (frontier.length) {
      const at = frontier.pop()!;
      for (const next of ['QUEUED', 'LAUNCHED', 'RUNNING', 'EXECUTED', 'FAILING', 'SUCCESSFUL', 'FAILED', 'CANCELED', 'CLOSED'] as QueryStatus[]) {
        if (!canMove(at, next) || visited.has(next)) continue;
        if (next === to) return true;
        visited.add(next);
        frontier.push(next);
      }
    }
    return false;
  };
  return seen.every((s, i) => i === 0 || s === seen[i - 1] || reachable(seen[i - 1], s));
}

describe('queries across a three-node cluster (pg and DuckDB drivers)', () => {
  let db: TestDatabase;
  let warehouse: TestWarehouse;
  let cluster: Cluster;
  let lens: LensClient;
  let nodes: LensClient[];
  let session: OpenedSession;
  const duckdbDir = mkdtempSync(join(tmpdir(), 'quarry-duck-'));
  const roots = mkdtempSync(join(tmpdir(), 'quarry-roots-'));

  const QUICK_END_MS = 1000;
  const submit = (client: LensClient, s: OpenedSession, query: string, extra: Record<string, string> = {}) =>
    client.request('POST', 'queryapi/queries', { form: { sessionid: s.xml, query, operation: 'EXECUTE', ...extra }, accept: 'application/json' });
  const handleOf = (answer: { json: <T>() => T }) => answer.json<{ lensAPIResult: { data: { handleId: string } } }>().lensAPIResult.data.handleId;
  const status = async (client: LensClient, s: OpenedSession, handle: string) =>
    (await client.request('GET', `queryapi/queries/${handle}`, { query: { sessionid: s.xml }, accept: 'application/json' })).json<LensQueryJson>().lensQuery;
  const rowsOf = async (client: LensClient, s: OpenedSession, handle: string) =>
    (await client.request('GET', `queryapi/queries/${handle}/resultset`, { query: { sessionid: s.xml }, accept: 'application/json' }))
      .json<{ inMemoryQueryResult: { rows?: { values?: ({ value: unknown } | null)[] }[] } }>()
      .inMemoryQueryResult.rows?.map((r) => (r.values ?? []).map((cell) => cell?.value ?? null)) ?? [];
  const launchedOn = async (handle: string) =>
    (await db.pool.query<{ node: string }>(`SELECT payload->>'executorNodeId' AS node FROM events WHERE stream_id = $1 AND type = 'QueryLaunched'`, [`query-${handle}`])).rows.map((r) => r.node);
  /** A series without labels in L1's /metrics. */
  const metric = async (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(await fetch(`${cluster.nodes[0].url}/metrics`).then((r) => r.text()))?.[1]);
  const held = () => metric('quarry_held_results');
  const withdrawn = () => metric('quarry_query_runs_withdrawn_total');
  /**
   * `user`'s request id taken for `earlier` by a transaction the submit cannot see yet: the submit
   * `send` starts (with that request id in its conf) appends, waits on the key once `waiting` holds,
   * then fails on it once the transaction commits, and answers the earlier handle.
   */
  const withRequestIdTaken = async (user: string, requestId: string, earlier: string, send: (conf: string) => ReturnType<typeof submit>, waiting: [string, () => Promise<boolean>]) => {
    const blocker = await db.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`INSERT INTO query_requests (user_name, request_id, query_handle) VALUES ($1, $2, $3)`, [user, requestId, earlier]);
      const answer = send(`<conf><properties><entry><key>quarry.query.request.id</key><value>${requestId}</value></entry></properties></conf>`);
      await waitFor(waiting[0], async () => ((await waiting[1]()) ? true : undefined));
      await blocker.query('COMMIT');
      expect(handleOf(await answer)).toBe(earlier);
    } finally {
      await blocker.query('ROLLBACK'); // nothing left open when the test failed before its COMMIT
      blocker.release();
    }
  };
  const finished = (handle: string, client = lens, s = session) =>
    waitFor(`query ${handle} to finish`, async () => {
      const q = await status(client, s, handle);
      return ['SUCCESSFUL', 'FAILED', 'CANCELED', 'CLOSED'].includes(q.status.status) ? q : undefined;
    });

  beforeAll(async () => {
    warehouse = await createTestWarehouse();
    await warehouse.pool.query(`CREATE TABLE sales AS SELECT g AS id, (ARRAY['north','south','east'])[1 + g % 3] AS region, (g * 1.5)::numeric(10,2) AS amount FROM generate_series(1, 300) g`);
    writeFileSync(join(duckdbDir, 'trips.csv'), 'id,city\n1,Oslo\n2,Lima\n3,Oslo\n');
    writeFileSync(join(roots, 'udf.jar'), 'a Hive UDF jar');
    // Init scripts run read-only (docs/security.md): settings, not temporary functions.
    writeFileSync(join(roots, 'init.sql'), "SET quarry.factor = '2';");
    db = await createTestDatabase();
    cluster = await Cluster.start({
      databaseUrl: db.url,
      kafkaBrokers: testEnv().kafkaBrokers,
      topicPrefix: uniqueTopicPrefix(),
      env: {
        QUARRY_PG_WAREHOUSE_URL: warehouse.readerUrl,
        QUARRY_DUCKDB_WAREHOUSE: duckdbDir,
        QUARRY_RESOURCE_ROOTS: roots,
        QUARRY_MAX_RUNNING_QUERIES: '2',
        QUARRY_MAX_SESSIONS_PER_USER: '50',
        // Long enough for a SELECT on a loaded machine to end within it, whatever CI runs beside.
        QUARRY_QUICK_END_MS: String(QUICK_END_MS),
      },
    });
    lens = new LensClient(cluster.balancerUrl);
    nodes = cluster.nodes.map((n) => new LensClient(n.url));
    session = await lens.open('ana');
  });

  afterAll(async () => {
    await cluster?.stop();
    await db?.drop();
    await warehouse?.drop();
    rmSync(duckdbDir, { recursive: true, force: true });
    rmSync(roots, { recursive: true, force: true });
  });

  it('runs a query submitted through the balancer; every node reports a valid Lens path to SUCCESSFUL; the rows are right', async () => {
    const answer = await submit(lens, session, 'SELECT region, sum(amount) AS total FROM sales GROUP BY region ORDER BY region');
    expect(answer.status).toBe(200);
    const handle = handleOf(answer);
    const seen: QueryStatus[] = [];
    const last = await waitFor('SUCCESSFUL', async () => {
      for (const node of nodes) seen.push((await status(node, session, handle)).status.status);
      return seen[seen.length - 1] === 'SUCCESSFUL' ? seen : undefined;
    }, { intervalMs: 5 });
    expect(isLensPath(last)).toBe(true);
    expect(last[0]).toMatch(/QUEUED|LAUNCHED|RUNNING|EXECUTED|SUCCESSFUL/);

    const expected = (await warehouse.pool.query(`SELECT region, sum(amount)::text AS total FROM sales GROUP BY region ORDER BY region`)).rows.map((r) => [r.region, Number(r.total)]);
    // A decimal travels as a JSON number (MOXy's form), so compare values, not digits.
    for (const node of nodes) expect((await rowsOf(node, session, handle)).map(([r, t]) => [r, Number(t)])).toEqual(expected);
    const lensQuery = await status(nodes[2], session, handle);
    expect(lensQuery.selectedDriverName).toBe('pg');
    expect(lensQuery.status.isResultSetAvailable).toBe(true);
  });

  it('runs a query on the node it was submitted to when that node has a free slot and no query waits', async () => {
    for (const [i, client] of nodes.entries()) {
      const handle = handleOf(await submit(client, session, `SELECT ${i} AS v`));
      await finished(handle);
      expect([handle, await launchedOn(handle)]).toEqual([handle, [`L${i + 1}`]]);
    }
  });

  it('chooses DuckDB for a query over a warehouse file', async () => {
    const handle = handleOf(await submit(lens, session, `SELECT city, count(*) AS n FROM 'trips.csv' GROUP BY city ORDER BY city`));
    const done = await finished(handle);
    expect([done.status.status, done.selectedDriverName]).toEqual(['SUCCESSFUL', 'duckdb']);
    expect((await rowsOf(lens, session, handle)).map((r) => r.map(String))).toEqual([['Lima', '1'], ['Oslo', '2']]);
  });

  it('cancels a pg_sleep through a node other than its executor: CANCELED within a second, backend gone', async () => {
    const handle = handleOf(await submit(lens, session, 'SELECT pg_sleep(30)'));
    await waitFor('the sleep to run', async () => (await status(lens, session, handle)).status.status === 'RUNNING');
    const [executor] = await launchedOn(handle);
    const other = nodes[cluster.nodes.findIndex((n) => n.options.nodeId !== executor)];
    const cancel = await other.request('DELETE', `queryapi/queries/${handle}`, { query: { sessionid: session.xml }, accept: 'application/json' });
    expect(cancel.json()).toEqual({ apiResult: { status: 'SUCCEEDED', message: expect.any(String) } });
    await waitFor('CANCELED', async () => (await status(other, session, handle)).status.status === 'CANCELED', { timeoutMs: 1000, intervalMs: 20 });
    await waitFor('the backend to leave pg_stat_activity', async () => {
      const { rows } = await warehouse.pool.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query LIKE '%pg_sleep(30)%' AND state = 'active' AND pid <> pg_backend_pid()`, [warehouse.name]);
      return rows.length === 0;
    }, { timeoutMs: 1000, intervalMs: 20 });

    const again = await lens.request('DELETE', `queryapi/queries/${handle}`, { query: { sessionid: session.xml }, accept: 'application/json' });
    expect(again.json()).toEqual({ apiResult: { status: 'FAILED', message: 'the query was not running: it is CANCELED' } });
  });

  it('fails a query that errors at run time with the driver message, and refuses a syntax error at submit', async () => {
    const handle = handleOf(await submit(lens, session, 'SELECT 1 / (x - 1) FROM generate_series(1, 3) x'));
    const done = await finished(handle);
    expect(done.status.status).toBe('FAILED');
    expect(done.status.errorMessage).toContain('division by zero');

    const refused = await submit(lens, session, 'SELEC 1');
    expect(refused.status).toBe(400);
    expect(refused.json<{ lensAPIResult: { error: { code: number; message: string } } }>().lensAPIResult.error).toMatchObject({ message: expect.stringContaining('syntax error') });
  });

  it('answers bad submits with Lens codes: empty query 2002, unknown operation 2003 with the supported list', async () => {
    const empty = await lens.request('POST', 'queryapi/queries', { form: { sessionid: session.xml, query: '  ', operation: 'EXECUTE' }, accept: 'application/json' });
    expect([empty.status, empty.errorCode]).toEqual([400, 2002]);
    const unknown = await lens.request('POST', 'queryapi/queries', { form: { sessionid: session.xml, query: 'SELECT 1', operation: 'FLY' }, accept: 'application/json' });
    expect([unknown.status, unknown.errorCode]).toEqual([400, 2003]);
    expect(unknown.text).toContain('execute_with_timeout');
    const noSession = await lens.request('POST', 'queryapi/queries', { form: { query: 'SELECT 1', operation: 'EXECUTE' }, accept: 'application/json' });
    expect([noSession.status, noSession.errorCode]).toEqual([400, 2001]);
    const missing = await lens.request('GET', `queryapi/queries/00000000-0000-4000-8000-000000000000`, { query: { sessionid: session.xml } });
    expect(missing.status).toBe(404);
    const notAHandle = await lens.request('GET', `queryapi/queries/not-a-handle`, { query: { sessionid: session.xml } });
    expect([notAHandle.status, notAHandle.errorCode]).toEqual([400, 2006]);
  });

  it('EXECUTE_WITH_TIMEOUT returns the rows inline; EXPLAIN and ESTIMATE answer plan and cost', async () => {
    const answer = await lens.request('POST', 'queryapi/queries', {
      form: { sessionid: session.xml, query: 'SELECT count(*) AS n FROM sales', operation: 'execute_with_timeout', timeoutmillis: '20000' },
      accept: 'application/json',
    });
    expect(answer.status).toBe(200);
    expect(JSON.stringify(answer.json())).toContain('300');
    const explain = await lens.request('POST', 'queryapi/queries', { form: { sessionid: session.xml, query: 'SELECT * FROM sales', operation: 'EXPLAIN' }, accept: 'application/json' });
    expect(explain.status).toBe(200);
    expect(explain.text).toContain('Seq Scan');
    const estimate = await lens.request('POST', 'queryapi/queries', { form: { sessionid: session.xml, query: 'SELECT * FROM sales', operation: 'ESTIMATE' }, accept: 'application/json' });
    expect(estimate.status).toBe(200);
    expect(estimate.text).toContain('costType');
  });

  it('uses a setting from a .sql resource added on L1 in queries that execute on L2 and on L3', async () => {
    const s = await nodes[0].open('ana');
    expect((await nodes[0].addResource(s, 'file', join(roots, 'init.sql'))).status).toBe(200);
    // Submitted to L2 and to L3, each launches it itself (a free slot, nothing waiting).
    for (const [index, node] of [[1, nodes[1]], [2, nodes[2]]] as const) {
      const handle = handleOf(await submit(node, s, "SELECT 21 * current_setting('quarry.factor')::int AS v"));
      const done = await finished(handle, lens, s);
      expect([done.status.status, (await rowsOf(lens, s, handle))[0]?.[0], await launchedOn(handle)]).toEqual(['SUCCESSFUL', 42, [`L${index + 1}`]]);
    }
  });

  it('says, in the status, that a jar resource is not used by the driver rather than ignoring it', async () => {
    const s = await lens.open('jarred');
    expect((await lens.addResource(s, 'jar', join(roots, 'udf.jar'))).status).toBe(200);
    const handle = handleOf(await submit(lens, s, 'SELECT 1'));
    const done = await finished(handle, lens, s);
    expect(done.status.status).toBe('SUCCESSFUL');
    expect((done.status as { statusMessage?: string }).statusMessage).toBe(`pg cannot load jar resources: ${join(roots, 'udf.jar')}`);
  });

  it('keeps at most two queries running per node; the rest wait QUEUED with queue numbers', async () => {
    const s = await lens.open('bob');
    const handles = [];
    for (let i = 0; i < 8; i++) handles.push(handleOf(await submit(lens, s, `SELECT pg_sleep(20), ${i}`)));
    const queued = await waitFor('six running and two queued', async () => {
      const all = await Promise.all(handles.map((h) => status(lens, s, h)));
      const running = all.filter((q) => ['LAUNCHED', 'RUNNING'].includes(q.status.status));
      const waiting = all.filter((q) => q.status.status === 'QUEUED');
      return running.length === 6 && waiting.length === 2 ? waiting : undefined;
    });
    expect(queued.map((q) => q.status.queueNumber).sort()).toEqual([1, 2]);
    const perNode = (await db.pool.query(`SELECT executor_node_id, count(*)::int AS n FROM queries WHERE user_name = 'bob' AND status IN ('LAUNCHED', 'RUNNING') GROUP BY 1`)).rows;
    expect(perNode.every((r) => r.n <= 2)).toBe(true);
    for (const h of handles) await lens.request('DELETE', `queryapi/queries/${h}`, { query: { sessionid: s.xml } });
    for (const h of handles) expect((await finished(h, lens, s)).status.status).toBe('CANCELED');
  });

  it('returns the first handle for a retried submit with the same request id, on any node', async () => {
    const conf = '<conf><properties><entry><key>quarry.query.request.id</key><value>retry-42</value></entry></properties></conf>';
    const first = handleOf(await submit(nodes[0], session, 'SELECT 42', { conf }));
    const retried = await Promise.all([submit(nodes[1], session, 'SELECT 42', { conf }), submit(nodes[2], session, 'SELECT 42', { conf })]);
    expect(retried.map(handleOf)).toEqual([first, first]);
    const submitted = await db.pool.query(`SELECT count(*)::int AS n FROM events WHERE type = 'QuerySubmitted' AND payload->>'clientRequestId' = 'retry-42'`);
    expect(submitted.rows[0].n).toBe(1);
  });

  it('runs a query launched where it was submitted while its submit commits, and drops that run when the launch does not commit', async () => {
    const s = await lens.open('erin');
    const first = handleOf(await submit(nodes[0], s, 'SELECT 1'));
    await finished(first, lens, s);
    const heldBefore = await held();
    const withdrawnBefore = await withdrawn();
    const early = async () =>
      // Its cursor's FETCH is what the warehouse shows running; the sleep is the only one there now.
      (await warehouse.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND wait_event = 'PgSleep'`)).rows[0].n;
    // The engine is on the query while the append waits: it began before anything committed.
    await withRequestIdTaken('erin', 'taken-7', first, (conf) => submit(nodes[0], s, 'SELECT pg_sleep(60), 7', { conf }), [
      'the query to run on the warehouse beside the waiting append',
      async () => (await early()) === 1,
    ]);
    // Withdrawn: the engine stopped, no rows kept, nothing of the second query on record.
    expect(await early()).toBe(0);
    expect(await held()).toBe(heldBefore);
    expect(await withdrawn()).toBe(withdrawnBefore + 1);
    const submitted = await db.pool.query(`SELECT count(*)::int AS n FROM events WHERE type = 'QuerySubmitted' AND payload->>'userName' = 'erin'`);
    expect(submitted.rows[0].n).toBe(1);
  });

  it('records a query whose run ends before its launch is appended in that one commit, and drops its rows when that commit fails', async () => {
    const s = await lens.open('frank');
    const transactionsOf = async (handle: string) =>
      (await db.pool.query<{ type: string; tx: string }>(`SELECT type, xmin::text AS tx FROM events WHERE stream_id = $1 ORDER BY stream_version`, [`query-${handle}`])).rows;
    const endedBefore = await metric('quarry_queries_ended_in_launch_total');
    // Answered (EXECUTE) only once it is on record: already SUCCESSFUL, from one transaction, with no work row left.
    const quick = handleOf(await submit(nodes[0], s, 'SELECT 3 AS v'));
    const events = await transactionsOf(quick);
    expect(events.map((e) => e.type)).toEqual(['QuerySubmitted', 'QueryLaunched', 'QueryRunning', 'QueryExecuted', 'QuerySucceeded']);
    expect(new Set(events.map((e) => e.tx)).size).toBe(1);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM query_queue WHERE query_handle = $1', [quick])).rows[0].n).toBe(0);
    expect(await metric('quarry_queries_ended_in_launch_total')).toBe(endedBefore + 1);
    expect((await status(nodes[1], s, quick)).status.status).toBe('SUCCESSFUL');
    expect(await rowsOf(nodes[2], s, quick)).toEqual([[3]]);
    // A run longer than the window: answered while it runs, its end recorded by a commit of its own.
    const slow = handleOf(await submit(nodes[0], s, `SELECT 4 AS v FROM pg_sleep(${(QUICK_END_MS * 2) / 1000})`));
    expect((await status(nodes[1], s, slow)).status.status).toBe('RUNNING');
    expect((await finished(slow, nodes[2], s)).status.status).toBe('SUCCESSFUL');
    expect(new Set((await transactionsOf(slow)).map((e) => e.tx)).size).toBe(2);

    // Ended before its append, which then waits on a request id another transaction took, and fails on it.
    const [heldBefore, withdrawnBefore] = [await held(), await withdrawn()];
    await withRequestIdTaken('frank', 'taken-8', quick, (conf) => submit(nodes[0], s, 'SELECT 8 AS v', { conf }), [
      'the append to wait on the request id',
      async () => (await db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n === 1,
    ]);
    // Its rows dropped, nothing of it on record, not counted as ended in its launch.
    expect(await held()).toBe(heldBefore);
    expect(await withdrawn()).toBe(withdrawnBefore + 1);
    expect(await metric('quarry_queries_ended_in_launch_total')).toBe(endedBefore + 1);
    const submitted = await db.pool.query(`SELECT count(*)::int AS n FROM events WHERE type = 'QuerySubmitted' AND payload->>'userName' = 'frank'`);
    expect(submitted.rows[0].n).toBe(2);
  });

  it('takes 200 concurrent submits from several clients to a terminal state, each exactly once', async () => {
    const clients = await Promise.all(['c1', 'c2', 'c3', 'c4'].map((u) => lens.open(u)));
    const submitted = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const client = clients[i % clients.length];
        const answer = await submit(nodes[i % 3], client, `SELECT ${i} AS v`);
        expect(answer.status).toBe(200);
        return { handle: handleOf(answer), client, i };
      }),
    );
    await waitFor('all 200 to finish', async () => {
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM events WHERE type IN ('QuerySucceeded', 'QueryFailed', 'QueryCanceled') AND stream_id = ANY($1)`, [
        submitted.map((s) => `query-${s.handle}`),
      ]);
      return rows[0].n === 200;
    }, { timeoutMs: 120_000, intervalMs: 200 });
    const terminal = await db.pool.query(
      `SELECT stream_id, count(*)::int AS n, min(type) AS type FROM events WHERE type IN ('QuerySucceeded', 'QueryFailed', 'QueryCanceled') AND stream_id = ANY($1) GROUP BY stream_id`,
      [submitted.map((s) => `query-${s.handle}`)],
    );
    expect(terminal.rows).toHaveLength(200);
    expect(terminal.rows.every((r) => r.n === 1 && r.type === 'QuerySucceeded')).toBe(true);
    const launches = await db.pool.query(`SELECT count(*)::int AS n FROM events WHERE type = 'QueryLaunched' AND stream_id = ANY($1)`, [submitted.map((s) => `query-${s.handle}`)]);
    expect(launches.rows[0].n).toBe(200);
    for (const { handle, client, i } of submitted.filter((_, k) => k % 20 === 0)) expect(await rowsOf(lens, client, handle)).toEqual([[i]]);
  });

  it('lists the caller own queries with filters, never another user', async () => {
    const answer = await lens.request('GET', 'queryapi/queries', { query: { sessionid: session.xml, state: 'SUCCESSFUL,FAILED' }, accept: 'application/json' });
    expect(answer.status).toBe(200);
    const handles = answer.json<{ queryHandle: { handleId: string } }[]>().map((q) => q.queryHandle.handleId);
    expect(handles.length).toBeGreaterThan(0);
    const owners = await db.pool.query(`SELECT DISTINCT user_name FROM queries WHERE query_handle = ANY($1::uuid[])`, [handles]);
    expect(owners.rows).toEqual([{ user_name: 'ana' }]);
    const bob = await lens.open('bob');
    const someoneElses = await lens.request('GET', `queryapi/queries/${handles[0]}`, { query: { sessionid: bob.xml } });
    expect(someoneElses.status).toBe(404);
  });
});
