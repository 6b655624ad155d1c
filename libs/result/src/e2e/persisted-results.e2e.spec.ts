import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { LensClient, type Cluster, type TestDatabase } from '@quarry/testing';
import { executorOf, getResultset, rowsIn, startResultCluster, submit, succeeded, type ResultCluster } from './result-api';

/** Resident memory of a process, from /proc (kB -> bytes). */
function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.replace(/\D/g, '')) * 1024;
}

describe('persisted results across a three-node cluster', () => {
  let results: ResultCluster;
  let db: TestDatabase;
  let cluster: Cluster;
  let lens: LensClient;
  let resultDir: string;

  beforeAll(async () => {
    results = await startResultCluster();
    ({ db, cluster, resultDir } = results);
    lens = new LensClient(cluster.balancerUrl);
  });

  afterAll(() => results?.stop());

  it('streams a 1,000,000-row result to the store and downloads it through another node in constant memory', async () => {
    const session = await lens.open('ana');
    const handle = await submit(lens, session, `SELECT g AS id, 'row ' || g AS label FROM generate_series(1, 1000000) g`, {
      'lens.query.enable.persistent.resultset': 'true',
      'lens.query.output.write.header': 'true',
    });
    await succeeded(lens, session, handle, 120_000);
    const executor = await executorOf(db.pool, handle);
    const server = cluster.nodes.find((n) => n.options.nodeId !== executor)!;
    const client = new LensClient(server.url);

    const answer = await client.request('GET', `queryapi/queries/${handle}/resultset`, { query: { sessionid: session.xml }, accept: 'application/json' });
    expect(answer.json()).toEqual({
      persistentQueryResult: {
        persistedURI: `${handle}.csv`,
        numRows: 1_000_000,
        fileSize: expect.any(Number),
        httpResultUrl: `/lensapi/queryapi/queries/${handle}/httpresultset`,
      },
    });

    const before = rssOf(server.process.pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(server.process.pid))), 20);
    const url = new URL(`${server.url}/lensapi/queryapi/queries/${handle}/httpresultset`);
    url.searchParams.set('sessionid', session.xml);
    const response = await fetch(url);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${handle}.csv"`);
    let lines = 0;
    let bytes = 0;
    let first = '';
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      const text = decoder.decode(chunk, { stream: true });
      if (!first) first = text.slice(0, text.indexOf('\n'));
      for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lines++;
    }
    clearInterval(sampler);
    expect(first).toBe('id,label');
    expect(lines).toBe(1_000_001);
    expect(bytes).toBe(answer.json<{ persistentQueryResult: { fileSize: number } }>().persistentQueryResult.fileSize);
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);

    const lastPage = await getResultset(client, session, handle, { fromindex: '999998', fetchsize: '5' });
    expect(rowsIn(lastPage)).toEqual([
      [999_999, 'row 999999'],
      [1_000_000, 'row 1000000'],
    ]);
  });

  it('keeps a persisted result readable through every node after its executor is SIGKILLed; gzip when asked', async () => {
    const session = await lens.open('bob');
    const handle = await submit(lens, session, 'SELECT g, g * g AS square FROM generate_series(1, 5) g', {
      'lens.query.enable.persistent.resultset': 'true',
      'lens.query.output.compression.codec': 'gzip',
    });
    await succeeded(lens, session, handle, 120_000);
    await cluster.node(await executorOf(db.pool, handle)).sigkill();

    for (const node of cluster.nodes.filter((n) => n.process.running)) {
      const url = new URL(`${node.url}/lensapi/queryapi/queries/${handle}/httpresultset`);
      url.searchParams.set('sessionid', session.xml);
      const response = await fetch(url);
      expect([node.options.nodeId, response.status]).toEqual([node.options.nodeId, 200]);
      const csv = gunzipSync(Buffer.from(await response.arrayBuffer())).toString();
      expect(csv).toBe('1,1\n2,4\n3,9\n4,16\n5,25\n');
    }
    const metadata = await lens.request('GET', `queryapi/queries/${handle}/resultsetmetadata`, { query: { sessionid: session.xml }, accept: 'application/json' });
    expect(metadata.json()).toEqual({ queryResultSetMetadata: { columns: [{ name: 'g', type: 'INT' }, { name: 'square', type: 'INT' }] } });
    const someoneElse = await lens.open('eve');
    const refused = await lens.request('GET', `queryapi/queries/${handle}/httpresultset`, { query: { sessionid: someoneElse.xml } });
    expect(refused.status).toBe(404);
    expect((await lens.request('DELETE', `queryapi/queries/${handle}/resultset`, { query: { sessionid: someoneElse.xml } })).status).toBe(404);
  });

  it('deletes a result everywhere: file gone, every node says no result, status says so', async () => {
    const session = await lens.open('carol');
    const handle = await submit(lens, session, 'SELECT 1 AS one', { 'lens.query.enable.persistent.resultset': 'true' });
    await succeeded(lens, session, handle, 120_000);
    const live = cluster.nodes.filter((n) => n.process.running);
    expect(readdirSync(resultDir).filter((f) => f.startsWith(handle)).sort()).toEqual([`${handle}.csv`, `${handle}.rowbatches`]);
    const deleted = await new LensClient(live[0].url).request('DELETE', `queryapi/queries/${handle}/resultset`, { query: { sessionid: session.xml }, accept: 'application/json' });
    expect(deleted.json()).toEqual({ apiResult: { status: 'SUCCEEDED', message: `result of ${handle} deleted` } });
    expect(readdirSync(resultDir).filter((f) => f.startsWith(handle))).toEqual([]);
    for (const node of live) {
      const client = new LensClient(node.url);
      const gone = await client.request('GET', `queryapi/queries/${handle}/resultset`, { query: { sessionid: session.xml } });
      expect([node.options.nodeId, gone.status, gone.text]).toEqual([node.options.nodeId, 410, `the result of query ${handle} was deleted`]);
      const status = await client.request('GET', `queryapi/queries/${handle}`, { query: { sessionid: session.xml }, accept: 'application/json' });
      expect(status.json<{ lensQuery: { status: { isResultSetAvailable: boolean; status: string } } }>().lensQuery.status).toMatchObject({ status: 'SUCCESSFUL', isResultSetAvailable: false });
    }
    const again = await lens.request('DELETE', `queryapi/queries/${handle}/resultset`, { query: { sessionid: session.xml }, accept: 'application/json' });
    expect([again.status, again.json()]).toEqual([404, { apiResult: { status: 'FAILED', message: 'the query has no result to delete: it is SUCCESSFUL' } }]);
  });
});
