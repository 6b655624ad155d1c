import { randomUUID } from 'node:crypto';
import { getRequestTarget, LensClient, waitFor, type Cluster, type TestDatabase } from '@quarry/testing';
import { FINISHED_INTEREST_CLASS } from '@quarry/query';
import { executorOf, getResultset, metricOf, rowsIn, SERVING_ONLY, startResultCluster, statusOf, submit, succeeded, type ResultCluster } from './result-api';

async function eventsOf(db: TestDatabase, handle: string, type: string) {
  const { rows } = await db.pool.query<{ payload: Record<string, unknown> }>('SELECT payload FROM events WHERE stream_id = $1 AND type = $2 ORDER BY stream_version', [
    `query-${handle}`,
    type,
  ]);
  return rows.map((r) => r.payload);
}

describe('in-memory results held by the node that ran the query (three nodes, balancer)', () => {
  let results: ResultCluster;
  let db: TestDatabase;
  let cluster: Cluster;
  let lens: LensClient;
  const client = (id: string) => results.client(id);

  beforeAll(async () => {
    results = await startResultCluster({
      nodeTargets: { L2: SERVING_ONLY, L3: SERVING_ONLY },
      env: { QUARRY_RESULT_MEMORY_MAX_BYTES: String(1024 * 1024), QUARRY_HEARTBEAT_MS: '200', QUARRY_NODE_DOWN_AFTER_MS: '1500' },
    });
    ({ db, cluster } = results);
    lens = new LensClient(cluster.balancerUrl);
  });

  afterAll(() => results?.stop());

  it('LENS-658: executes on L1, L2 says it finished, L3 returns the right rows forwarded from L1', async () => {
    const session = await lens.open('ana');
    const handle = await submit(lens, session, `SELECT g AS id, 'row ' || g AS label FROM generate_series(1, 5) g ORDER BY g`);
    expect(await succeeded(client('L2'), session, handle)).toMatchObject({ status: 'SUCCESSFUL', isResultSetAvailable: true });
    expect(await executorOf(db.pool, handle)).toBe('L1');
    const forwardedBefore = await metricOf(cluster.node('L3').url, 'quarry_result_pages_total', 'served="forwarded"');
    expect(rowsIn(await getResultset(client('L3'), session, handle))).toEqual([1, 2, 3, 4, 5].map((g) => [g, `row ${g}`]));
    expect(await metricOf(cluster.node('L3').url, 'quarry_result_pages_total', 'served="forwarded"')).toBe(forwardedBefore + 1);
    const xml = await client('L3').request('GET', `queryapi/queries/${handle}/resultset`, { query: { sessionid: session.xml }, accept: 'application/xml' });
    expect([xml.status, xml.text.includes('row 4')]).toEqual([200, true]);
    const metadata = await client('L2').request('GET', `queryapi/queries/${handle}/resultsetmetadata`, { query: { sessionid: session.xml }, accept: 'application/json' });
    expect(metadata.json()).toEqual({ queryResultSetMetadata: { columns: [{ name: 'id', type: 'INT' }, { name: 'label', type: 'STRING' }] } });
  });

  it('EXECUTE_WITH_TIMEOUT on L3 returns the rows inline, fetched from L1 where the query ran', async () => {
    const session = await lens.open('abe');
    const answer = await client('L3').request('POST', 'queryapi/queries', {
      form: { sessionid: session.xml, query: 'SELECT g AS n FROM generate_series(1, 3) g ORDER BY g', operation: 'EXECUTE_WITH_TIMEOUT', timeoutmillis: '30000' },
      accept: 'application/json',
    });
    const data = answer.json<{ lensAPIResult: { data: { queryHandle: { handleId: string }; result: { rows: { values: { value: unknown }[] }[] } } } }>().lensAPIResult.data;
    expect(data.result.rows.map((r) => r.values.map((v) => v.value))).toEqual([[1], [2], [3]]);
    expect(await executorOf(db.pool, data.queryHandle.handleId)).toBe('L1');
  });

  it('EXECUTE_WITH_TIMEOUT on L3 for a query L1 runs: L3 is heard waiting for its end (its interest held) until it answers', async () => {
    const session = await lens.open('cid');
    /** Interests in a query's end held in Quarry's database (FINISHED_INTEREST_CLASS): only this test's wait holds one. */
    const interests = async () =>
      (
        await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.mode = 'ShareLock' AND l.granted AND l.classid = $1 AND l.objsubid = 2`,
          [FINISHED_INTEREST_CLASS],
        )
      ).rows[0].n;
    const answering = client('L3').request('POST', 'queryapi/queries', {
      form: { sessionid: session.xml, query: 'SELECT 7 AS n FROM pg_sleep(3)', operation: 'EXECUTE_WITH_TIMEOUT', timeoutmillis: '60000' },
      accept: 'application/json',
    });
    await waitFor('L3 heard waiting for the end', async () => (await interests()) === 1);
    const data = (await answering).json<{ lensAPIResult: { data: { queryHandle: { handleId: string }; result: { rows: { values: { value: unknown }[] }[] } } } }>().lensAPIResult.data;
    expect(data.result.rows.map((r) => r.values.map((v) => v.value))).toEqual([[7]]);
    expect(await executorOf(db.pool, data.queryHandle.handleId)).toBe('L1');
    await waitFor('the interest released once L3 answered', async () => (await interests()) === 0);
  });

  it('pages in-memory and persisted results: fromindex/fetchsize give exactly the asked slice, in order, on every node', async () => {
    const session = await lens.open('bea');
    const query = 'SELECT g AS n FROM generate_series(1, 2500) g ORDER BY g';
    const held = await submit(lens, session, query);
    const persisted = await submit(lens, session, query, {
      'lens.query.enable.persistent.resultset': 'true',
      'lens.query.output.write.header': 'true',
      'lens.query.output.compression.codec': 'gzip',
    });
    await succeeded(lens, session, held);
    await succeeded(lens, session, persisted);
    const slice = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => [from + i + 1]);
    for (const handle of [held, persisted]) {
      for (const id of ['L1', 'L3']) {
        const page = async (fromindex: string, fetchsize?: string) => rowsIn(await getResultset(client(id), session, handle, { fromindex, ...(fetchsize && { fetchsize }) }));
        expect(await page('0', '1000')).toEqual(slice(0, 1000));
        expect(await page('1000', '1000')).toEqual(slice(1000, 2000));
        expect(await page('2000', '1000')).toEqual(slice(2000, 2500));
        expect(await page('1234', '3')).toEqual(slice(1234, 1237));
        expect(await page('2499', '7')).toEqual([[2500]]);
        expect(await page('2500')).toEqual([]);
      }
    }
    expect(rowsIn(await getResultset(client('L2'), session, held))).toEqual(slice(0, 2500));
    const where = await getResultset(client('L2'), session, persisted);
    expect(where.json()).toMatchObject({ persistentQueryResult: { numRows: 2500 } });
  });

  it('a forwarded page is the holder\'s own answer: the same bytes, Content-Type and Content-Length as from the holder, JSON and XML', async () => {
    const session = await lens.open('bee');
    // Several of the holder's pieces (PAGE_PIECE_CHARS, 64K characters) a page.
    const handle = await submit(lens, session, `SELECT g AS id, 'row ' || g AS label FROM generate_series(1, 3000) g ORDER BY g`);
    await succeeded(lens, session, handle);
    expect(await executorOf(db.pool, handle)).toBe('L1');
    for (const accept of ['application/json', 'application/xml']) {
      const ask = (id: string) => client(id).request('GET', `queryapi/queries/${handle}/resultset`, { query: { sessionid: session.xml, fromindex: '0', fetchsize: '3000' }, accept });
      const [direct, forwarded] = [await ask('L1'), await ask('L3')];
      const shape = (answer: typeof direct) => ({
        status: answer.status,
        type: answer.header('content-type'),
        length: answer.header('content-length'),
        chunked: answer.header('transfer-encoding'),
      });
      expect(shape(direct)).toEqual({ status: 200, type: `${accept}; charset=utf-8`, length: String(Buffer.byteLength(direct.text)), chunked: undefined });
      expect(shape(forwarded)).toEqual(shape(direct));
      expect(direct.text.length).toBeGreaterThan(3 * 64 * 1024);
      expect(forwarded.text === direct.text).toBe(true);
    }
  });

  it('a client paging on a node that does not hold the result gets each next page read ahead, the holder\'s own bytes; never after its session closed or the result was deleted', async () => {
    const readAhead = (outcome: string) => metricOf(cluster.node('L3').url, 'quarry_result_read_ahead_total', `outcome="${outcome}"`);
    const rows3000 = `SELECT g AS id, 'row ' || g AS label FROM generate_series(1, 3000) g ORDER BY g`;
    const pageOf = (handle: string, who: { xml: string }) => (id: string, fromindex: string) =>
      client(id).request('GET', `queryapi/queries/${handle}/resultset`, { query: { sessionid: who.xml, fromindex, fetchsize: '1000' }, accept: 'application/json' });

    const session = await lens.open('rae');
    const handle = await submit(lens, session, rows3000);
    await succeeded(lens, session, handle);
    expect(await executorOf(db.pool, handle)).toBe('L1');
    const page = pageOf(handle, session);
    const used = await readAhead('used');
    for (const from of ['0', '1000', '2000']) {
      const [forwarded, direct] = [await page('L3', from), await page('L1', from)];
      expect([from, forwarded.status, forwarded.header('content-type'), forwarded.header('content-length')]).toEqual([from, 200, direct.header('content-type'), direct.header('content-length')]);
      expect(forwarded.text === direct.text).toBe(true);
    }
    // Pages 1000 and 2000 were read ahead and served; none past the last row.
    expect(await readAhead('used')).toBe(used + 2);

    // Read ahead, then the result deleted through L2: L3 drops the page and answers as the holder does.
    const dropped = await readAhead('dropped');
    expect((await page('L3', '0')).status).toBe(200);
    const deleted = await client('L2').request('DELETE', `queryapi/queries/${handle}/resultset`, { query: { sessionid: session.xml }, accept: 'application/json' });
    expect(deleted.status).toBe(200);
    await waitFor('L3 to drop the page of the deleted result', async () => (await readAhead('dropped')) === dropped + 1);
    const gone = await page('L3', '1000');
    expect([gone.status, gone.errorCode, gone.text.includes('deleted')]).toEqual([410, 9002, true]);

    // Read ahead, then the session closed (through L2): when asked for, the page is checked against
    // the session as it is now, and dropped; the closed session gets no rows.
    const closing = await lens.open('rex');
    const itsHandle = await submit(lens, closing, rows3000);
    await succeeded(lens, closing, itsHandle);
    const itsPage = pageOf(itsHandle, closing);
    expect((await itsPage('L3', '0')).status).toBe(200);
    const closed = await client('L2').request('DELETE', 'session', { query: { sessionid: closing.xml }, accept: 'application/json' });
    expect(closed.status).toBe(200);
    const refused = await itsPage('L3', '1000');
    expect([refused.status >= 400 && refused.status < 500, refused.text.includes('row 1001')]).toEqual([true, false]);
    expect(await readAhead('dropped')).toBe(dropped + 2);
    expect(await readAhead('used')).toBe(used + 2);
  });

  it('through the balancer, a page asked of a node that does not hold the result is sent back to the holder (a relative 307); a page marked for its holder is never sent back twice', async () => {
    const session = await lens.open('rou');
    const handle = await submit(lens, session, `SELECT g AS id, 'row ' || g AS label FROM generate_series(1, 3000) g ORDER BY g`);
    await succeeded(lens, session, handle);
    expect(await executorOf(db.pool, handle)).toBe('L1');
    const served = (id: string, how: string) => metricOf(cluster.node(id).url, 'quarry_result_pages_total', `served="${how}"`);
    const servedBy = async (how: string) => Object.fromEntries(await Promise.all(['L1', 'L2', 'L3'].map(async (id) => [id, await served(id, how)] as const)));
    const page = (id: string, fromindex: string, extra: { headers?: Record<string, string>; query?: Record<string, string> } = {}) =>
      client(id).request('GET', `queryapi/queries/${handle}/resultset`, { query: { sessionid: session.xml, fromindex, fetchsize: '1000', ...extra.query }, accept: 'application/json', headers: extra.headers, redirect: 'manual' });
    // What the balancer in front of this cluster tells every node it passes a request to.
    const routes = { 'x-quarry-balancer-routes': 'L1,L2,L3' };

    // The first time the full way (L3 reads the query and finds L1), the next straight from what it learned: both a 307 back
    // through the balancer, relative (no node's address reaches the client), naming the holder.
    const redirectedBefore = await served('L3', 'redirected');
    for (const from of ['0', '1000']) {
      const answer = await page('L3', from, { headers: routes });
      expect([from, answer.status]).toEqual([from, 307]);
      const location = new URL(answer.location!, 'http://balancer');
      expect(answer.location!.startsWith(`/lensapi/queryapi/queries/${handle}/resultset?`)).toBe(true);
      expect(Object.fromEntries(location.searchParams)).toEqual({ sessionid: session.xml, fromindex: from, fetchsize: '1000', 'quarry.holder': 'L1' });
    }
    expect(await served('L3', 'redirected')).toBe(redirectedBefore + 2);
    // Bad input is answered as on the full way, not sent on.
    const bad = await page('L3', 'minus one', { headers: routes });
    expect([bad.status, bad.errorCode]).toEqual([400, 1006]);

    // Through the real balancer, every page is the holder's own, served by L1; none is forwarded. Of two results' first pages
    // asked one after the other, round robin gives at least one to L2 or L3, which sends it back; once a result's page was
    // sent back, the balancer keeps its later pages on L1: no result is sent back twice.
    const other = await submit(lens, session, `SELECT g AS id, 'row ' || g AS label FROM generate_series(1, 3000) g ORDER BY g`);
    await succeeded(lens, session, other);
    expect(await executorOf(db.pool, other)).toBe('L1');
    const viaBalancer = (result: string, from: string) => getResultset(lens, session, result, { fromindex: from, fetchsize: '1000' });
    const directly = (result: string, from: string) => getResultset(client('L1'), session, result, { fromindex: from, fetchsize: '1000' });
    const sentBack = async () => (await served('L2', 'redirected')) + (await served('L3', 'redirected'));
    const [here, forwarded, sentBackBefore] = [await served('L1', 'here'), await servedBy('forwarded'), await sentBack()];
    const firstPages = [await viaBalancer(handle, '0'), await viaBalancer(other, '0')];
    const sentBackFirst = (await sentBack()) - sentBackBefore;
    expect(sentBackFirst).toBeGreaterThanOrEqual(1);
    for (const from of ['1000', '2000', '0', '1000', '2000']) {
      for (const result of [handle, other]) {
        const [routed, direct] = [await viaBalancer(result, from), await directly(result, from)];
        expect([from, routed.status, routed.header('content-length')]).toEqual([from, 200, direct.header('content-length')]);
        expect(routed.text === direct.text).toBe(true);
      }
    }
    expect(firstPages.map((p) => p.status)).toEqual([200, 200]);
    expect(await served('L1', 'here')).toBe(here + 2 + 2 * 5 * 2);
    expect(await servedBy('forwarded')).toEqual(forwarded);
    const sentBackInAll = (await sentBack()) - sentBackBefore;
    expect(sentBackInAll).toBeLessThanOrEqual(2);

    // A page marked for L1 that reaches L3 (L1 was down at the balancer, or the balancer does not route) is forwarded, never sent back.
    const forwardedBefore = await served('L3', 'forwarded');
    const marked = await page('L3', '2000', { headers: routes, query: { 'quarry.holder': 'L1' } });
    expect(marked.status).toBe(200);
    expect(marked.text === (await page('L1', '2000')).text).toBe(true);
    expect(await served('L3', 'forwarded')).toBe(forwardedBefore + 1);
    // A balancer that does not route to L1 (say, only to the serving nodes) gets the page forwarded too.
    expect((await page('L3', '0', { headers: { 'x-quarry-balancer-routes': 'L2,L3' } })).status).toBe(200);
    expect(await served('L3', 'forwarded')).toBe(forwardedBefore + 2);
  });

  it('a node that forwarded a page asks the holder straight away next time; the holder still refuses a wrong secret or another user, and a deleted result is 410', async () => {
    const session = await lens.open('bex');
    const other = await lens.open('cal');
    const handle = await submit(lens, session, 'SELECT g AS n FROM generate_series(1, 30) g ORDER BY g');
    await succeeded(lens, session, handle);
    expect(await executorOf(db.pool, handle)).toBe('L1');
    const page = (id: string, who: { xml: string }, fromindex = '0') =>
      client(id).request('GET', `queryapi/queries/${handle}/resultset`, { query: { sessionid: who.xml, fromindex, fetchsize: '10' }, accept: 'application/json' });
    const outcome = (answer: Awaited<ReturnType<typeof page>>) => ({ status: answer.status, code: answer.errorCode, leaks: answer.text.includes('"value":1') });
    const forwarded = () => metricOf(cluster.node('L3').url, 'quarry_result_pages_total', 'served="forwarded"');
    // The first page the full way: L3 reads the query, finds L1 and remembers it.
    expect(rowsIn(await page('L3', session))).toEqual(Array.from({ length: 10 }, (_, i) => [i + 1]));
    const before = await forwarded();
    expect(rowsIn(await page('L3', session, '10'))).toEqual(Array.from({ length: 10 }, (_, i) => [i + 11]));
    expect(await forwarded()).toBe(before + 1);
    // L2 never forwarded this result: its answers are the full way's, and L3's must be the same.
    const wrongSecret = { xml: session.xml.replace(session.secretId, randomUUID()) };
    for (const [what, who] of [['another user', other], ['a wrong secret', wrongSecret]] as const) {
      const [viaL3, viaL2] = [outcome(await page('L3', who)), outcome(await page('L2', who))];
      expect([what, viaL3]).toEqual([what, viaL2]);
      expect([what, viaL3.status >= 400 && viaL3.status < 500, viaL3.leaks]).toEqual([what, true, false]);
    }
    expect(rowsIn(await page('L3', session, '20'))).toEqual(Array.from({ length: 10 }, (_, i) => [i + 21]));
    const deleted = await client('L2').request('DELETE', `queryapi/queries/${handle}/resultset`, { query: { sessionid: session.xml }, accept: 'application/json' });
    expect(deleted.status).toBe(200);
    const [gone, goneL2] = [await page('L3', session), await page('L2', session)];
    expect([gone.status, gone.errorCode, gone.text.includes('deleted')]).toEqual([410, goneL2.errorCode, true]);
  });

  it('answers bad input with a clear 4xx and its Lens code, and fails a result that outgrows memory with a clear message', async () => {
    const session = await lens.open('cy');
    const someoneElse = await lens.open('dan');
    const handle = await submit(lens, session, 'SELECT 1 AS one');
    await succeeded(lens, session, handle);
    const bad: [Record<string, string>, string][] = [
      [{ fetchsize: '-1' }, 'fetchsize'],
      [{ fetchsize: '0' }, 'fetchsize'],
      [{ fetchsize: '10001' }, 'fetchsize'],
      [{ fetchsize: '99999999999999999999999' }, 'fetchsize'],
      [{ fromindex: '-5' }, 'fromindex'],
      [{ fromindex: 'ten' }, 'fromindex'],
    ];
    for (const [page, name] of bad) {
      const answer = await getResultset(client('L2'), session, handle, page);
      expect([JSON.stringify(page), answer.status, answer.errorCode, answer.text.includes(name)]).toEqual([JSON.stringify(page), 400, 1006, true]);
    }
    const unknown = await getResultset(client('L3'), session, randomUUID());
    expect([unknown.status, unknown.errorCode]).toEqual([404, 1003]);
    const notAHandle = await getResultset(client('L3'), session, 'nope');
    expect([notAHandle.status, notAHandle.errorCode]).toEqual([400, 2006]);
    for (const path of ['resultset', 'resultsetmetadata', 'httpresultset']) {
      const foreign = await client('L2').request('GET', `queryapi/queries/${handle}/${path}`, { query: { sessionid: someoneElse.xml } });
      expect([path, foreign.status]).toEqual([path, 404]);
    }

    const failing = await submit(lens, session, 'SELECT 1 / (g - 1) FROM generate_series(1, 2) g');
    await waitFor('the query to fail', async () => (await statusOf(lens, session, failing)).status === 'FAILED');
    const ofFailed = await getResultset(client('L3'), session, failing);
    expect([ofFailed.status, ofFailed.errorCode]).toEqual([400, 1006]);
    expect(ofFailed.text).toMatch(/FAILED.*division by zero/);

    const ttl = await lens.request('POST', 'queryapi/queries', {
      form: { sessionid: session.xml, query: 'SELECT 1', operation: 'EXECUTE', conf: '<conf><properties><entry><key>quarry.query.result.ttl.seconds</key><value>0</value></entry></properties></conf>' },
      accept: 'application/json',
    });
    expect([ttl.status, ttl.errorCode, ttl.text.includes('quarry.query.result.ttl.seconds')]).toEqual([400, 1006, true]);

    const huge = await submit(lens, session, `SELECT g, repeat('x', 100) AS pad FROM generate_series(1, 100000) g`);
    const failed = await waitFor('the oversized result to fail', async () => {
      const status = await statusOf(lens, session, huge);
      return status.status === 'FAILED' ? status : undefined;
    });
    expect(failed.errorMessage).toContain('QUARRY_RESULT_MEMORY_MAX_BYTES');
    expect(failed.errorMessage).toContain('lens.query.enable.persistent.resultset=true');
  });

  it('expires an in-memory result after its time: every node says so, and the answer is 410 naming the holder', async () => {
    const session = await lens.open('fay');
    const handle = await submit(lens, session, 'SELECT 7 AS v', { 'quarry.query.result.ttl.seconds': '1' });
    await succeeded(lens, session, handle);
    for (const id of ['L1', 'L2', 'L3']) {
      const status = await waitFor(`${id} to report the result expired`, async () => {
        const s = await statusOf(client(id), session, handle);
        return s.isResultSetAvailable ? undefined : s;
      });
      expect(status).toMatchObject({ status: 'SUCCESSFUL', isResultSetAvailable: false });
      expect(status.statusMessage).toContain('expired on node L1');
      const gone = await getResultset(client(id), session, handle);
      expect([gone.status, gone.errorCode]).toEqual([410, 9002]);
      expect(gone.text).toContain('expired on node L1');
    }
    expect(await eventsOf(db, handle, 'ResultExpired')).toEqual([{ queryHandle: handle, attempt: 1, nodeId: 'L1' }]);
  });

  it('deletes an in-memory result held on L1 through L3: every node then answers 410 saying it was deleted', async () => {
    const session = await lens.open('gus');
    const handle = await submit(lens, session, 'SELECT 8 AS v');
    await succeeded(lens, session, handle);
    const deleted = await client('L3').request('DELETE', `queryapi/queries/${handle}/resultset`, { query: { sessionid: session.xml }, accept: 'application/json' });
    expect(deleted.status).toBe(200);
    for (const id of ['L1', 'L2', 'L3']) {
      const gone = await getResultset(client(id), session, handle);
      expect([id, gone.status, gone.text]).toEqual([id, 410, `the result of query ${handle} was deleted`]);
      expect((await statusOf(client(id), session, handle)).isResultSetAvailable).toBe(false);
    }
  });

  it('a clean stop of the holder drains: its results move to the store and stay readable as rows everywhere, never lost', async () => {
    const session = await lens.open('ida');
    const handle = await submit(lens, session, 'SELECT 9 AS v');
    await succeeded(client('L2'), session, handle);
    await cluster.restart('L1');
    for (const id of ['L1', 'L2', 'L3']) {
      const answer = await getResultset(client(id), session, handle);
      expect([id, answer.status, rowsIn(answer)]).toEqual([id, 200, [[9]]]);
    }
    expect(await eventsOf(db, handle, 'ResultPersisted')).toHaveLength(1);
    expect(await eventsOf(db, handle, 'ResultLost')).toEqual([]);
    expect((await statusOf(client('L2'), session, handle)).isResultSetAvailable).toBe(true);
  });

  it('SIGKILL of the holder: 410 naming L1 through the others; with re-run on, the rows come back and the status says why', async () => {
    const session = await lens.open('hal');
    const plain = await submit(lens, session, 'SELECT 41 AS v');
    const rerun = await submit(lens, session, 'SELECT g AS v FROM generate_series(1, 3) g ORDER BY g', { 'quarry.query.rerun.on.lost.result': 'true' });
    await succeeded(client('L2'), session, plain);
    await succeeded(client('L2'), session, rerun);
    await cluster.node('L1').sigkill();

    const gone = await waitFor('the lost result to answer 410', async () => {
      const answer = await getResultset(client('L3'), session, plain);
      return answer.status === 410 ? answer : undefined;
    });
    expect(gone.errorCode).toBe(9002);
    expect(gone.text).toContain(`the in-memory result of query ${plain} is gone: node L1, which held it, is down`);
    const status = await waitFor('L2 to report the result lost', async () => {
      const s = await statusOf(client('L2'), session, plain);
      return s.isResultSetAvailable ? undefined : s;
    });
    expect(status.statusMessage).toContain('lost: node L1 is down');
    expect((await eventsOf(db, plain, 'ResultLost')).map((p) => [p['nodeId'], p['reason']])).toEqual([['L1', 'node-down']]);
    // Through the balancer too: a page sent back for L1 reaches another node, which says it is gone.
    const goneViaBalancer = await getResultset(lens, session, plain);
    expect([goneViaBalancer.status, goneViaBalancer.errorCode]).toEqual([410, 9002]);

    // L1, the only node that runs queries, comes back as a new incarnation and runs it again.
    await cluster.restart('L1');
    const again = await getResultset(client('L3'), session, rerun, {}, { timeoutMs: 40_000 });
    expect(rowsIn(again)).toEqual([[1], [2], [3]]);
    const rerunStatus = await statusOf(client('L2'), session, rerun);
    expect(rerunStatus).toMatchObject({ status: 'SUCCESSFUL', isResultSetAvailable: true });
    expect(rerunStatus.statusMessage).toContain('re-run: the in-memory result was lost with node L1');
    // The re-run is a second attempt recorded beside SUCCESSFUL (Lens has no edge out of it).
    expect((await eventsOf(db, rerun, 'QueryLaunched')).map((p) => p['attempt'])).toEqual([1]);
    expect((await eventsOf(db, rerun, 'ResultRerunLaunched')).map((p) => p['attempt'])).toEqual([2]);
    expect(await eventsOf(db, rerun, 'ResultRerunRequested')).toHaveLength(1);
    expect(await eventsOf(db, rerun, 'ResultRecomputed')).toHaveLength(1);
  });
});

describe('in-memory results with QUARRY_RESULT_FETCH=redirect and QUARRY_RESULT_OVERFLOW=persist', () => {
  let results: ResultCluster;
  let cluster: Cluster;
  const client = (id: string) => results.client(id);

  beforeAll(async () => {
    results = await startResultCluster({
      size: 2,
      nodeTargets: { L2: SERVING_ONLY },
      env: { QUARRY_RESULT_FETCH: 'redirect', QUARRY_RESULT_OVERFLOW: 'persist', QUARRY_RESULT_MEMORY_MAX_BYTES: String(64 * 1024) },
    });
    ({ cluster } = results);
  });

  afterAll(() => results?.stop());

  it('answers 307 to the holder advertised URL; following it gives the rows', async () => {
    const session = await client('L2').open('ivy');
    const handle = await submit(client('L2'), session, 'SELECT 5 AS v');
    await succeeded(client('L2'), session, handle);
    const redirected = await getResultset(client('L2'), session, handle, { fetchsize: '10' }, { redirect: 'manual' });
    expect(redirected.status).toBe(307);
    const location = new URL(redirected.location!);
    expect([location.origin, location.pathname, location.searchParams.get('fetchsize')]).toEqual([
      cluster.node('L1').url,
      `/lensapi/queryapi/queries/${handle}/resultset`,
      '10',
    ]);
    expect(rowsIn(await getResultset(client('L2'), session, handle, { fetchsize: '10' }))).toEqual([[5]]);

    // A request target naming another host (absolute form) sent straight to L2: still L1, never that host.
    const query = `sessionid=${encodeURIComponent(session.xml)}&fetchsize=10&extra=dropped`;
    const absolute = await getRequestTarget(cluster.node('L2').options.port, `http://attacker.invalid:81/lensapi/queryapi/queries/${handle}/resultset?${query}`, { accept: 'application/json' });
    const pointed = new URL(String(absolute.headers.location));
    expect([absolute.status, pointed.origin, pointed.pathname, [...pointed.searchParams.keys()]]).toEqual([
      307,
      cluster.node('L1').url,
      `/lensapi/queryapi/queries/${handle}/resultset`,
      ['sessionid', 'fetchsize'],
    ]);
  });

  it('moves a result that outgrows memory to the result store, complete, served by any node', async () => {
    const session = await client('L2').open('jon');
    const handle = await submit(client('L2'), session, `SELECT g AS n, repeat('x', 100) AS pad FROM generate_series(1, 20000) g ORDER BY g`);
    await succeeded(client('L2'), session, handle);
    expect((await getResultset(client('L2'), session, handle)).json()).toMatchObject({ persistentQueryResult: { numRows: 20000 } });
    expect(rowsIn(await getResultset(client('L2'), session, handle, { fromindex: '19998', fetchsize: '5' }))).toEqual([
      [19999, 'x'.repeat(100)],
      [20000, 'x'.repeat(100)],
    ]);
  });
});
