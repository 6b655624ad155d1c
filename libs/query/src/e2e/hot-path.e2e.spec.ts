import { PgEventStore, rebuildProjection } from '@quarry/eventstore';
import { metricOf, waitFor } from '@quarry/testing';
import { randomUUID } from 'node:crypto';
import { queriesProjection } from '../projection/queries.projection';
import { queryStatus, startQueryCluster, submitQuery, type QueryCluster } from './query-api';

/**
 * What one `SELECT 1` costs in Quarry's own database on the query path (issue 11): statements and
 * WAL-flushing commits, counted by the node around its pool, per purpose. Counts, not timings, so
 * the test is deterministic: the `lens` purpose is the request and the work it starts in the node
 * (the query launched where it was submitted, its finish, and the `queries` row its appends
 * keep); the outbox relay and the Kafka-fed projections count under purposes of their own. One
 * query at a time, their batches are the query's own, so the total is asserted too (issue 11's goal).
 */
describe('the query path in Quarry database', () => {
  /**
   * Measured 3.1 with a commit of its own for the query's end: the session read 1 (the wait of
   * EXECUTE_WITH_TIMEOUT uses the session its submit checked), submit 1, finish 1; a NOTIFY after
   * an append's commit only while the outbox relay sleeps (RELAY_ASLEEP_LOCK), and the finish's
   * only to nodes heard waiting elsewhere (ADR 11, "Eighth pass"). Now a SELECT 1 ends within
   * QUARRY_QUICK_END_MS and its submit records it from submitted to succeeded (ADR 11, "Ninth
   * pass"): the finish's statement is gone. One of slack for the relay's NOTIFY and a rare second
   * look, so an added statement fails.
   */
  const MAX_STATEMENTS_PER_QUERY = 3;
  const WRITE_COMMITS_PER_QUERY = 1;
  /** Everything a query causes in Quarry's database: measured 3 and 1.05 (7 and 2 before), issue 11's goal is 15 and 3; held tighter so an added statement fails. */
  const MAX_TOTAL_STATEMENTS = 5;
  const MAX_TOTAL_WRITE_COMMITS = 2;
  const QUERIES = 20;
  let qc: QueryCluster;

  beforeAll(async () => {
    // A choice outlives the test however slow the machine is (30 s by default).
    // A SELECT 1 ends within the quick-end window however slow the machine (50 ms by default).
    qc = await startQueryCluster({ QUARRY_DB_COUNT_BY_PURPOSE: 'true', QUARRY_DRIVER_CHOICE_TTL_MS: '600000', QUARRY_QUICK_END_MS: '1000' }, { size: 1 });
  });
  afterAll(async () => {
    await qc?.stop();
  });

  /** EXECUTE_WITH_TIMEOUT through the balancer, as the bench sends it; the row must be inline. */
  const selectOne = async () => {
    const answer = await qc.lens.request('POST', 'queryapi/queries', {
      form: { sessionid: qc.session.xml, query: 'SELECT 1', operation: 'EXECUTE_WITH_TIMEOUT', timeoutmillis: '30000' },
      accept: 'application/json',
    });
    expect(answer.status).toBe(200);
    const data = answer.json<{ lensAPIResult: { data: { status: { status: string }; result?: { rows: { values: { value: unknown }[] }[] } } } }>().lensAPIResult.data;
    expect(data.status.status).toBe('SUCCESSFUL');
    expect(data.result?.rows.map((r) => Number(r.values[0].value))).toEqual([1]);
  };

  const counts = async () => {
    const url = qc.cluster.nodes[0].url;
    const of = async (purpose: string) => ({
      statements: await metricOf(url, 'quarry_db_statements_total', `purpose="${purpose}"`),
      writeCommits: await metricOf(url, 'quarry_db_write_commits_total', `purpose="${purpose}"`),
    });
    return { lens: await of('lens'), relay: await of('relay'), projection: await of('projection') };
  };
  /** Submits whose driver was chosen by planning on every driver (not reused from a recent choice). */
  const planned = () => metricOf(qc.cluster.nodes[0].url, 'quarry_driver_choices_total', 'how="planned"');

  it(`a warmed node spends at most ${MAX_STATEMENTS_PER_QUERY} statements and ${WRITE_COMMITS_PER_QUERY} write commits per SELECT 1 on the query path, ${MAX_TOTAL_STATEMENTS} and ${MAX_TOTAL_WRITE_COMMITS} in all`, async () => {
    // Warm: the session is cached, the warehouse connection open, the statements prepared.
    for (let i = 0; i < 3; i++) await selectOne();
    const before = await counts();
    const plannedBefore = await planned();
    for (let i = 0; i < QUERIES; i++) await selectOne();
    const after = await counts();
    // The same text in the same session: chosen once (QUARRY_DRIVER_CHOICE_TTL_MS), not planned again on each submit.
    expect(plannedBefore).toBeGreaterThanOrEqual(1);
    expect(await planned()).toBe(plannedBefore);
    const perQuery = (purpose: keyof typeof before, what: 'statements' | 'writeCommits') => (after[purpose][what] - before[purpose][what]) / QUERIES;
    const measured = {
      lens: { statements: perQuery('lens', 'statements'), writeCommits: perQuery('lens', 'writeCommits') },
      relay: { statements: perQuery('relay', 'statements'), writeCommits: perQuery('relay', 'writeCommits') },
      projection: { statements: perQuery('projection', 'statements'), writeCommits: perQuery('projection', 'writeCommits') },
    };
    const total = {
      statements: measured.lens.statements + measured.relay.statements + measured.projection.statements,
      writeCommits: measured.lens.writeCommits + measured.relay.writeCommits + measured.projection.writeCommits,
    };
    console.log(`per SELECT 1 query: ${JSON.stringify({ ...measured, total })}`);
    expect(measured.lens.statements).toBeLessThanOrEqual(MAX_STATEMENTS_PER_QUERY);
    // Exactly the one write a query that ends at once needs (submitted, launched and finished):
    // also proves the executor's work is counted under the request that started it.
    expect(measured.lens.writeCommits).toBe(WRITE_COMMITS_PER_QUERY);
    // The relay publishes each append's events (one read each, its deletes in bulk); no
    // Kafka-fed projection reads query events any more (`queries` is kept by the appends).
    expect(total.statements).toBeLessThanOrEqual(MAX_TOTAL_STATEMENTS);
    expect(total.writeCommits).toBeLessThanOrEqual(MAX_TOTAL_WRITE_COMMITS);
  });

  it('answers a status poll with one statement: the session and the query are read together', async () => {
    const handle = await submitQuery(qc.lens, qc.session, 'SELECT 1');
    await waitFor('SUCCESSFUL', async () => (await queryStatus(qc.lens, qc.session, handle)).status === 'SUCCESSFUL');
    const before = (await counts()).lens;
    const POLLS = 10;
    for (let i = 0; i < POLLS; i++) expect((await queryStatus(qc.lens, qc.session, handle)).status).toBe('SUCCESSFUL');
    const after = (await counts()).lens;
    expect((after.statements - before.statements) / POLLS).toBe(1);
    expect(after.writeCommits - before.writeCommits).toBe(0);
  });

  it('answers GET of a query ahead of Express (ADR 17) with the same status, headers and body as through Express', async () => {
    const handle = await submitQuery(qc.lens, qc.session, 'SELECT 1');
    await waitFor('SUCCESSFUL', async () => (await queryStatus(qc.lens, qc.session, handle)).status === 'SUCCESSFUL');
    // What the node answers, all headers but the date; a validator that matches nothing sends the request the full way.
    const answer = async (path: string, sessionid: string, headers: Record<string, string>) => {
      const url = new URL(`${qc.cluster.nodes[0].url}/lensapi/queryapi/queries/${path}`);
      url.searchParams.set('sessionid', sessionid);
      const response = await fetch(url, { headers });
      const all = Object.fromEntries([...response.headers].filter(([name]) => name !== 'date'));
      return { status: response.status, headers: all, body: await response.text() };
    };
    const fullWay = { 'if-none-match': '"no such tag"' };
    const wrongSecret = qc.session.xml.replace(qc.session.secretId, randomUUID());
    const cases: [string, string][] = [
      [handle, qc.session.xml],
      [handle.toUpperCase(), qc.session.xml],
      [randomUUID(), qc.session.xml],
      ['not-a-handle', qc.session.xml],
      [handle, wrongSecret],
      [handle, ''],
    ];
    for (const accept of [undefined, 'application/json', 'application/xml', 'text/csv']) {
      for (const [path, sessionid] of cases) {
        const headers = accept ? { accept } : {};
        const fast = await answer(path, sessionid, headers);
        expect([accept, path, fast]).toEqual([accept, path, await answer(path, sessionid, { ...headers, ...fullWay })]);
      }
    }
    const ok = await answer(handle, qc.session.xml, { accept: 'application/json' });
    expect(ok.status).toBe(200);
    expect(ok.headers).toMatchObject({ 'x-powered-by': 'Express', 'content-type': 'application/json; charset=utf-8', etag: expect.stringMatching(/^W\//) });
    expect(JSON.parse(ok.body).lensQuery.status.status).toBe('SUCCESSFUL');
  });

  it('answers a submit ahead of Express and Nest (ADR 17) with the same status, headers and body as through them, errors included', async () => {
    const url = `${qc.cluster.nodes[0].url}/lensapi/queryapi/queries`;
    const fastAnswers = () => metricOf(qc.cluster.nodes[0].url, 'quarry_http_fast_answers_total', 'method="POST"');
    // Ids, handles and times differ between two submits; everything else must not.
    const comparable = (text: string) => text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, 'UUID').replace(/\b1\d{12}\b/g, 'TIME');
    const answer = async (fields: Record<string, string>, headers: Record<string, string>) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      const response = await fetch(url, { method: 'POST', body: form, headers });
      const { date: _date, etag, ...rest } = Object.fromEntries(response.headers);
      return { status: response.status, headers: { ...rest, etag: etag === undefined ? 'none' : 'some' }, body: comparable(await response.text()) };
    };
    const fullWay = { 'if-none-match': '"no such tag"' };
    const wrongSecret = qc.session.xml.replace(qc.session.secretId, randomUUID());
    const cases: Record<string, string>[] = [
      { sessionid: qc.session.xml, query: 'SELECT 1', operation: 'EXECUTE_WITH_TIMEOUT', timeoutmillis: '30000' },
      { sessionid: qc.session.xml, query: 'SELECT 1' },
      { sessionid: qc.session.xml, query: 'SELECT * FROM no_such_table', operation: 'EXECUTE_WITH_TIMEOUT' },
      { sessionid: qc.session.xml, query: '   ' },
      { sessionid: qc.session.xml, query: 'SELECT 1', operation: 'BOGUS' },
      { sessionid: qc.session.xml, query: 'SELECT 1', conf: '<conf><not closed' },
      { sessionid: wrongSecret, query: 'SELECT 1' },
      { query: 'SELECT 1' },
    ];
    let fast = 0;
    const before = await fastAnswers();
    for (const accept of [undefined, 'application/json', 'application/xml']) {
      for (const fields of cases) {
        const headers = accept ? { accept } : {};
        const fastOne = await answer(fields, headers);
        fast++;
        expect([accept, fields, fastOne]).toEqual([accept, fields, await answer(fields, { ...headers, ...fullWay })]);
      }
    }
    // Every first answer came the fast way, every second one the full way.
    expect((await fastAnswers()) - before).toBe(fast);
    const ok = await answer(cases[0], { accept: 'application/json' });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).lensAPIResult.data.status.status).toBe('SUCCESSFUL');
  });

  it('keeps the queries row with the query own appends: listed on the answer to its submit, current on the answer to its end, the same after a rebuild', async () => {
    const listed = async () => {
      const answer = await qc.lens.request('GET', 'queryapi/queries', { query: { sessionid: qc.session.xml }, accept: 'application/json' });
      expect(answer.status).toBe(200);
      return answer.json<{ queryHandle: { handleId: string } }[]>().map((q) => q.queryHandle.handleId);
    };
    const handle = await submitQuery(qc.lens, qc.session, 'SELECT 1');
    // No wait: a Kafka-fed listing would not have it yet.
    expect(await listed()).toContain(handle);
    await waitFor('SUCCESSFUL', async () => (await queryStatus(qc.lens, qc.session, handle)).status === 'SUCCESSFUL');
    const row = await qc.db.pool.query(
      `SELECT q.status, q.version, q.finished_at IS NOT NULL AS finished, q.result_holder_node, (SELECT max(stream_version) FROM events WHERE stream_id = 'query-' || $1::text) AS stream_version
       FROM queries q WHERE q.query_handle = $1::uuid`,
      [handle],
    );
    expect(row.rows).toEqual([{ status: 'SUCCESSFUL', version: row.rows[0].stream_version, finished: true, result_holder_node: 'L1', stream_version: expect.any(Number) }]);

    // `projection:rebuild queries` replays the store one event at a time and must land on the same rows.
    const all = async () => (await qc.db.pool.query('SELECT * FROM queries ORDER BY query_handle')).rows;
    const before = await all();
    const store = new PgEventStore(qc.db.pool, { nodeId: 'rebuild', nodeIncarnation: randomUUID() }, 'unused');
    expect(await rebuildProjection(qc.db.pool, store, queriesProjection)).toBeGreaterThan(before.length);
    expect(await all()).toEqual(before);
  });
});
