import { Cluster, createTestDatabase, createTestWarehouse, LensClient, testEnv, uniqueTopicPrefix, waitFor, type TestDatabase, type TestWarehouse } from '@quarry/testing';

interface LensQueryJson {
  lensQuery: { status: { status: string }; queryConf?: { properties?: { key: string; value: string }[] }; finishTime: number; closedTime: number };
}

describe('query retention and conf changes (one node, short retention)', () => {
  let db: TestDatabase;
  let warehouse: TestWarehouse;
  let cluster: Cluster;
  let lens: LensClient;

  beforeAll(async () => {
    warehouse = await createTestWarehouse();
    db = await createTestDatabase();
    cluster = await Cluster.start({
      size: 1,
      databaseUrl: db.url,
      kafkaBrokers: testEnv().kafkaBrokers,
      topicPrefix: uniqueTopicPrefix(),
      env: {
        QUARRY_PG_WAREHOUSE_URL: warehouse.readerUrl,
        QUARRY_QUERY_RETENTION_MS: '1500',
        QUARRY_QUERY_RETENTION_CHECK_MS: '100',
        QUARRY_MAX_RUNNING_QUERIES: '1',
      },
    });
    lens = new LensClient(cluster.balancerUrl);
  });

  afterAll(async () => {
    await cluster?.stop();
    await db?.drop();
    await warehouse?.drop();
  });

  const submit = async (sessionXml: string, query: string) =>
    (await lens.request('POST', 'queryapi/queries', { form: { sessionid: sessionXml, query, operation: 'EXECUTE' }, accept: 'application/json' }))
      .json<{ lensAPIResult: { data: { handleId: string } } }>().lensAPIResult.data.handleId;
  const get = async (sessionXml: string, handle: string) =>
    (await lens.request('GET', `queryapi/queries/${handle}`, { query: { sessionid: sessionXml }, accept: 'application/json' })).json<LensQueryJson>().lensQuery;

  it('closes a finished query after the retention time; its status stays answerable', async () => {
    const session = await lens.open('ana');
    const handle = await submit(session.xml, 'SELECT 1');
    const closed = await waitFor('CLOSED', async () => {
      const q = await get(session.xml, handle);
      return q.status.status === 'CLOSED' ? q : undefined;
    }, { timeoutMs: 30_000, intervalMs: 100 });
    expect(closed.closedTime).toBeGreaterThanOrEqual(closed.finishTime + 1500);
    const events = await db.pool.query(`SELECT type FROM events WHERE stream_id = $1 ORDER BY stream_version`, [`query-${handle}`]);
    expect(events.rows.map((r) => r.type)).toEqual(['QuerySubmitted', 'QueryLaunched', 'QueryRunning', 'QueryExecuted', 'QuerySucceeded', 'QueryClosed']);
  });

  it('changes the conf of a queued query, and refuses once it has launched', async () => {
    const session = await lens.open('ana');
    // One slot: a sleeping query holds it, so the next one stays QUEUED.
    const blocker = await submit(session.xml, 'SELECT pg_sleep(20)');
    await waitFor('the blocker to run', async () => (await get(session.xml, blocker)).status.status === 'RUNNING');
    const queued = await submit(session.xml, 'SELECT 2');
    const conf = '<conf><properties><entry><key>lens.query.priority</key><value>HIGH</value></entry></properties></conf>';
    const changed = await lens.request('PUT', `queryapi/queries/${queued}`, { form: { sessionid: session.xml, conf }, accept: 'application/json' });
    expect(changed.json()).toEqual({ apiResult: { status: 'SUCCEEDED', message: expect.any(String) } });
    expect((await get(session.xml, queued)).queryConf?.properties).toEqual(expect.arrayContaining([{ key: 'lens.query.priority', value: 'HIGH' }]));

    const late = await lens.request('PUT', `queryapi/queries/${blocker}`, { form: { sessionid: session.xml, conf }, accept: 'application/json' });
    expect([late.status, late.json()]).toEqual([400, { apiResult: { status: 'FAILED', message: 'a RUNNING query cannot become QUEUED' } }]);
    await lens.request('DELETE', `queryapi/queries/${blocker}`, { query: { sessionid: session.xml } });
    await waitFor('the queued query to run', async () => ['SUCCESSFUL', 'CLOSED'].includes((await get(session.xml, queued)).status.status));
  });
});
