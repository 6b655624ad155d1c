import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { confXml, createTestWarehouse, getJson, LensClient, startTestCluster, waitFor, type OpenedSession, type TestCluster, type TestWarehouse } from '@quarry/testing';

/**
 * The front door: clients reach gateway-only nodes (L1, L2) through the balancer; queries run on
 * driver-only nodes (L3, L4), which persist their results to the shared store (they do not run
 * `result`, so they hold nothing in memory); L5 runs the services' background work (session
 * expiry and projection, query retention and takeover, lost results) and serves no client either.
 */
const LAYOUT: Record<string, string> = { L1: 'gateway', L2: 'gateway', L3: 'driver', L4: 'driver', L5: 'session,query,result' };
const GATEWAYS = ['L1', 'L2'];
const NOT_GATEWAYS = ['L3', 'L4', 'L5'];

interface QueryStatus {
  status: string;
  isResultSetAvailable?: boolean;
}

describe('the gateway is the front door (2 gateway-only and 2 driver-only nodes, a services node, the balancer over the gateways)', () => {
  let warehouse: TestWarehouse;
  let resultDir: string;
  let running: TestCluster;
  let lens: LensClient;

  beforeAll(async () => {
    warehouse = await createTestWarehouse();
    resultDir = mkdtempSync(join(tmpdir(), 'quarry-results-'));
    running = await startTestCluster({
      size: 5,
      nodeTargets: LAYOUT,
      balanced: GATEWAYS,
      env: { QUARRY_PG_WAREHOUSE_URL: warehouse.readerUrl, QUARRY_RESULT_DIR: resultDir },
    });
    lens = new LensClient(running.cluster.balancerUrl);
  });

  afterAll(async () => {
    await running?.stop();
    await warehouse?.drop();
    if (resultDir) rmSync(resultDir, { recursive: true, force: true });
  });

  const node = (id: string) => running.cluster.node(id);

  it('opens a session, runs a query on a driver node, and serves its status and rows, all through the balancer', async () => {
    const session: OpenedSession = await lens.open('ana');
    const submitted = await lens.request('POST', 'queryapi/queries', {
      form: { sessionid: session.xml, query: "SELECT g AS n, 'row ' || g AS label FROM generate_series(1, 5) g", operation: 'EXECUTE', conf: confXml({}) },
      accept: 'application/json',
    });
    expect(submitted.status).toBe(200);
    const handle = submitted.json<{ lensAPIResult: { data: { handleId: string } } }>().lensAPIResult.data.handleId;

    // Polled through the balancer: the two gateways take turns answering.
    const seen = new Set<string>();
    const done = await waitFor(
      `${handle} to succeed`,
      async () => {
        const answer = await lens.request('GET', `queryapi/queries/${handle}`, { query: { sessionid: session.xml }, accept: 'application/json' });
        if (answer.status !== 200) throw new Error(`status answered ${answer.status}: ${answer.text}`);
        const status = answer.json<{ lensQuery: { status: QueryStatus } }>().lensQuery.status;
        seen.add(status.status);
        if (status.status === 'FAILED') throw new Error(answer.text);
        return status.status === 'SUCCESSFUL' ? status : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(done.isResultSetAvailable).toBe(true);
    expect([...seen].every((s) => ['QUEUED', 'LAUNCHED', 'RUNNING', 'EXECUTED', 'SUCCESSFUL'].includes(s))).toBe(true);

    const rows = await lens.request('GET', `queryapi/queries/${handle}/resultset`, {
      query: { sessionid: session.xml, fromindex: '0', fetchsize: '10' },
      accept: 'application/json',
    });
    expect(rows.status).toBe(200);
    const values = rows
      .json<{ inMemoryQueryResult: { rows: { values: { value: unknown }[] }[] } }>()
      .inMemoryQueryResult.rows.map((r) => r.values.map((v) => v.value));
    expect(values).toEqual([1, 2, 3, 4, 5].map((n) => [n, `row ${n}`]));

    // Executed on a driver node, and persisted there (no `result` service: it holds nothing).
    const { rows: events } = await running.db.pool.query<{ type: string; payload: { executorNodeId?: string; persisted?: unknown; held?: unknown } }>(
      `SELECT type, payload FROM events WHERE stream_id = $1 AND type IN ('QueryLaunched', 'QuerySucceeded') ORDER BY stream_version`,
      [`query-${handle}`],
    );
    expect(events.map((e) => e.type)).toEqual(['QueryLaunched', 'QuerySucceeded']);
    expect(['L3', 'L4']).toContain(events[0].payload.executorNodeId);
    expect(events[1].payload.persisted).toBeDefined();
    expect(events[1].payload.held).toBeUndefined();

    // The session is usable on either gateway directly, by its secret id.
    for (const id of GATEWAYS) {
      const params = await new LensClient(node(id).url).params(session, 'lens.query.output.write.header');
      expect(params.status).toBe(200);
    }
  });

  it('serves client routes on gateway nodes only; every node answers /health with what it runs', async () => {
    for (const id of GATEWAYS) {
      const client = new LensClient(node(id).url);
      const up = await client.request('GET', 'session');
      expect([id, up.status, up.text]).toEqual([id, 200, 'session is up!']);
      const cluster = await getJson<{ nodes: { nodeId: string; services: string[]; state: string }[] }>(`${node(id).url}/cluster/nodes`);
      expect(cluster.status).toBe(200);
      expect(Object.fromEntries(cluster.body.nodes.map((n) => [n.nodeId, n.services.join(',')]))).toEqual(LAYOUT);
    }
    for (const id of NOT_GATEWAYS) {
      const client = new LensClient(node(id).url);
      const answers = [
        (await client.request('GET', 'session')).status,
        (await client.request('POST', 'session', { form: { username: 'ana', password: '' } })).status,
        (await client.request('GET', 'queryapi/queries', { query: { sessionid: 'x' } })).status,
        (await client.request('GET', 'metastore/databases/current', { query: { sessionid: 'x' } })).status,
        (await client.request('GET', '/cluster/nodes')).status,
      ];
      expect([id, answers]).toEqual([id, [404, 404, 404, 404, 404]]);
      const health = await getJson<{ node: string; services: string[] }>(`${node(id).url}/health`);
      expect([health.status, health.body.services.join(',')]).toEqual([200, LAYOUT[id]]);
    }
  });
});
