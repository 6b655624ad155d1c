import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Cluster,
  confXml,
  createTestDatabase,
  createTestWarehouse,
  elementsOf,
  getJson,
  LensClient,
  testEnv,
  uniqueTopicPrefix,
  waitFor,
  type OpenedSession,
  type RequestOptions,
  type TestDatabase,
  type TestWarehouse,
} from '@quarry/testing';

/**
 * Every route a node serves, read from the node's own log line of its routes (so a route added
 * later is swept too), sent a fixed list of bad requests through the balancer in front of three
 * node processes: none may answer 5xx, no node may log a failed request or exit, and a session
 * the sweep never touched must read exactly as before.
 */
describe('the route sweep: nothing a client sends gets a 5xx', () => {
  let db: TestDatabase;
  let warehouse: TestWarehouse;
  let cluster: Cluster;
  let lens: LensClient;
  const roots = mkdtempSync(join(tmpdir(), 'quarry-sweep-'));

  beforeAll(async () => {
    writeFileSync(join(roots, 'udf.jar'), 'jar bytes');
    [db, warehouse] = await Promise.all([createTestDatabase(), createTestWarehouse()]);
    cluster = await Cluster.start({
      databaseUrl: db.url,
      kafkaBrokers: testEnv().kafkaBrokers,
      topicPrefix: uniqueTopicPrefix(),
      env: { QUARRY_PG_WAREHOUSE_URL: warehouse.readerUrl, QUARRY_RESOURCE_ROOTS: roots },
    });
    lens = new LensClient(cluster.balancerUrl);
  });

  afterAll(async () => {
    await cluster?.stop();
    await Promise.all([db?.drop(), warehouse?.drop()]);
    rmSync(roots, { recursive: true, force: true });
  });

  /** `METHOD /path` of every route, as the node logged them once mapped. */
  function routesOfNode(): string[] {
    const line = cluster.nodes[0].process.allLines().find((l) => l.includes('"msg":"http routes"'));
    if (!line) throw new Error('the node did not log its routes');
    return (JSON.parse(line) as { routes: string[] }).routes;
  }

  /** Everything the witness session is: read from every node, and its stream's events. */
  async function witnessState(witness: OpenedSession) {
    const events = await db.pool.query('SELECT event_id, type FROM events WHERE stream_id = $1 ORDER BY stream_version', [`session-${witness.publicId}`]);
    const perNode = await Promise.all(
      cluster.nodes.map(async (node) => {
        const client = new LensClient(node.url);
        const params = await client.request('GET', 'session/params', { query: { sessionid: witness.xml, verbose: 'true' }, accept: 'application/json' });
        const database = await client.request('GET', 'metastore/databases/current', { query: { sessionid: witness.xml } });
        return { params: elementsOf(params).sort(), database: database.text, resources: elementsOf(await client.listResources(witness)) };
      }),
    );
    return { events: events.rows, perNode };
  }

  it('answers every route and every bad shape without a 5xx, and changes nothing already accepted', async () => {
    const witness = await lens.open('wendy', { database: 'sales', conf: confXml({ 'lens.query.priority': 'HIGH' }) });
    expect((await lens.setParam(witness, 'kept', 'yes')).status).toBe(200);
    expect((await lens.addResource(witness, 'jar', join(roots, 'udf.jar'))).status).toBe(200);
    const before = await witnessState(witness);
    expect(before.perNode[0].params).toContain('kept=yes');

    // The probe session is sent in the shapes (its own params may change; the witness's may not).
    const probe = await lens.open('pat');
    const submitted = await lens.request('POST', 'queryapi/queries', { form: { sessionid: probe.xml, query: 'SELECT 1 AS one', operation: 'EXECUTE' }, accept: 'application/json' });
    const realHandle = submitted.json<{ lensAPIResult: { data: { handleId: string } } }>().lensAPIResult.data.handleId;
    await waitFor('the probe query to finish', async () => {
      const status = await lens.request('GET', `queryapi/queries/${realHandle}`, { query: { sessionid: probe.xml }, accept: 'application/json' });
      return status.json<{ lensQuery: { status: { status: string } } }>().lensQuery.status.status === 'SUCCESSFUL';
    });
    const incarnations = await Promise.all(cluster.nodes.map(async (n) => (await getJson<{ incarnation: string }>(`${n.url}/health`)).body.incarnation));

    const routes = routesOfNode();
    // The routes known today must be among them (the list itself comes from the node).
    expect(routes).toEqual(expect.arrayContaining(['POST /lensapi/session', 'PUT /lensapi/session/params', 'GET /lensapi/queryapi/queries/:handle/resultset', 'PUT /lensapi/metastore/databases/current']));
    // Deletes last, so that the probe session and its query are there for the other routes.
    const ordered = [...routes.filter((r) => !r.startsWith('DELETE ')), ...routes.filter((r) => r.startsWith('DELETE '))];
    const handles = [realHandle, '00000000-0000-4000-8000-000000000000', 'not-a-handle', 'h'.repeat(2000)];
    const requests: { name: string; method: string; path: string; options: RequestOptions }[] = [];
    for (const route of ordered) {
      const [method, pattern] = route.split(' ');
      for (const handle of pattern.includes(':handle') ? handles : ['']) {
        const path = pattern.replace(':handle', encodeURIComponent(handle));
        for (const [shape, options] of Object.entries(shapes(probe))) {
          // fetch sends no body with a GET.
          if (method === 'GET' && (options.body !== undefined || options.form)) continue;
          requests.push({ name: `${route} [${handle.slice(0, 12)}] ${shape}`, method, path, options });
        }
      }
    }
    for (const [path, methods] of Object.entries(methodsByPath(routes))) {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].filter((m) => !methods.includes(m))) {
        requests.push({ name: `${method} ${path} (not a route)`, method, path: path.replace(':handle', realHandle), options: { query: { sessionid: probe.xml } } });
      }
    }

    const direct = new LensClient(cluster.nodes[0].url);
    const fiveHundreds: string[] = [];
    for (const { name, method, path, options } of requests) {
      // The balancer hides the node-to-node routes (404); a client that reaches a node's port sends them straight.
      const client = path.startsWith('/internal/') ? direct : lens;
      const answer = await client.request(method, path, { timeoutMs: 30_000, ...options }).catch((error: Error) => ({ status: 599, text: `no answer: ${error.message} (${String((error.cause as Error | undefined)?.message)})` }));
      if (answer.status >= 500) fiveHundreds.push(`${name} -> ${answer.status} ${answer.text.slice(0, 160)}`);
    }
    expect(fiveHundreds).toEqual([]);
    expect(requests.length).toBeGreaterThan(400);

    // No node failed a request, or died, or restarted.
    for (const node of cluster.nodes) {
      expect([node.options.nodeId, node.process.allLines().filter((l) => l.includes('"msg":"request failed"')).slice(0, 3)]).toEqual([node.options.nodeId, []]);
    }
    // This cluster runs QUARRY_AUTH=none, which each node says at start.
    for (const node of cluster.nodes) expect(node.process.allLines().some((l) => l.includes('"level":40') && l.includes('QUARRY_AUTH=none'))).toBe(true);
    const after = await Promise.all(cluster.nodes.map(async (n) => (await getJson<{ incarnation: string }>(`${n.url}/health`)).body.incarnation));
    expect(after).toEqual(incarnations);
    expect(await witnessState(witness)).toEqual(before);
  });

  it('answers a 20 MB body 413, whatever its type, and a missing or wrong Content-Type 415 or 400', async () => {
    const big = 'a'.repeat(20 * 1024 * 1024);
    const post = (options: RequestOptions) => lens.request('POST', 'session', { timeoutMs: 60_000, ...options });
    const answers = {
      json: await post({ body: big, headers: { 'content-type': 'application/json' } }),
      urlencoded: await post({ body: big, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      multipartField: await post({ form: { username: big } }),
      noContentType: await post({ body: 'username=ana' }),
      textPlain: await post({ body: 'username=ana', headers: { 'content-type': 'text/plain' } }),
      noBody: await post({}),
    };
    const summary = Object.fromEntries(Object.entries(answers).map(([k, a]) => [k, [a.status, a.errorCode]]));
    expect(summary).toEqual({
      json: [413, 9006],
      urlencoded: [413, 9006],
      multipartField: [413, 9006],
      noContentType: [415, 9007],
      textPlain: [415, 9007],
      noBody: [400, 1005],
    });
    expect(answers.json.text).toContain('102400 bytes');
    expect(answers.multipartField.text).toContain('(username): a form field has at most 262144 bytes');
  });
});

/** The fixed list of bad requests every route gets. */
function shapes(probe: OpenedSession): Record<string, RequestOptions> {
  const junkHandle = JSON.stringify({ lensSessionHandle: { publicId: 1, secretId: ['x'] } });
  const bigKey = 'k'.repeat(2048);
  const multipart = (fields: Record<string, string>) => ({ form: { sessionid: probe.xml, ...fields } });
  return {
    nothing: {},
    garbledSessionId: { query: { sessionid: '"abc' } },
    hugeSessionId: { query: { sessionid: 'x'.repeat(6000) } },
    junkJsonSessionId: { query: { sessionid: junkHandle } },
    badQueryValues: {
      query: { sessionid: probe.xml, key: 'toString', type: 'exe', state: 'NOPE', fromindex: '-5', fetchsize: '1e309', fromDate: 'abc', verbose: 'maybe', queryName: 'q'.repeat(4000) },
    },
    hugeParamKeyQuery: { query: { sessionid: probe.xml, key: bigKey } },
    oversizedFields: multipart({
      username: 'u'.repeat(200_000),
      database: 'd'.repeat(300),
      key: bigKey,
      value: 'v'.repeat(20_000),
      type: 't'.repeat(1000),
      path: `/${'p'.repeat(5000)}`,
      query: 'SELECT 1',
      operation: 'NOPE',
      queryName: 'n'.repeat(200_000),
      timeoutmillis: 'abc',
      sessionconf: '<conf><properties>',
      conf: confXml({ 'quarry.query.request.id': 'r'.repeat(60_000) }),
    }),
    badKeysAndNames: multipart({ username: 'ana', database: '../etc', key: 'a=b\nc', value: 'v', type: 'file', path: '/etc/shadow', query: 'SELECT 1', queryName: 'q'.repeat(200_000) }),
    fieldOverMultipartLimit: multipart({ query: 'q'.repeat(300 * 1024) }),
    longFieldName: multipart({ ['f'.repeat(300)]: 'x' }),
    bigJson: { body: `{"username":"${'a'.repeat(1024 * 1024)}"}`, headers: { 'content-type': 'application/json' } },
    bigUrlencoded: { body: `username=${'a'.repeat(1024 * 1024)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    badJson: { body: '{"a', headers: { 'content-type': 'application/json' } },
    jsonList: { body: '[1,2]', headers: { 'content-type': 'application/json' } },
    jsonObjectsForFields: { body: JSON.stringify({ sessionid: { a: 1 }, username: ['a', 'b'], key: null }), headers: { 'content-type': 'application/json' } },
    jsonUnknownCharset: { body: '{}', headers: { 'content-type': 'application/json; charset=klingon' } },
    emptyJson: { body: '', headers: { 'content-type': 'application/json' } },
    badXml: { body: '<conf><a', headers: { 'content-type': 'application/xml' } },
    quotedText: { body: '"abc', headers: { 'content-type': 'text/plain' } },
    noContentType: { body: 'username=ana' },
    multipartWithoutBoundary: { body: 'x', headers: { 'content-type': 'multipart/form-data' } },
    truncatedMultipart: { body: '--b\r\nContent-Disposition: form-data; name="username"\r\n\r\nan', headers: { 'content-type': 'multipart/form-data; boundary=b' } },
    hugeHeaders: { query: { sessionid: probe.xml }, headers: { accept: `application/${'x'.repeat(5000)}`, 'x-request-id': 'r'.repeat(4000), cookie: `c=${'c'.repeat(4000)}` } },
    oddAccept: { query: { sessionid: probe.xml }, headers: { accept: 'application/json;q=abc, */*;q=2, text/*' } },
  };
}

function methodsByPath(routes: string[]): Record<string, string[]> {
  const byPath: Record<string, string[]> = {};
  for (const route of routes) {
    const [method, path] = route.split(' ');
    (byPath[path] ??= []).push(method);
  }
  return byPath;
}
