import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { balancerKindHere, createTestDatabase, createTestWarehouse, freePort, getJson, LensClient, OwnedProcess, QuarryGrpcClient, REPO_ROOT, uniqueTopicPrefix, waitFor, type TestDatabase, type TestWarehouse } from '@quarry/testing';

describe('npm start (tools/stack/start-cluster.mjs)', () => {
  let db: TestDatabase;
  let warehouse: TestWarehouse;
  let cluster: OwnedProcess | undefined;
  const duckdbDir = mkdtempSync(join(tmpdir(), 'quarry-start-'));

  afterAll(async () => {
    await cluster?.stop(30_000);
    await db?.drop();
    await warehouse?.drop();
    rmSync(duckdbDir, { recursive: true, force: true });
  });

  it('answers /health through the balancer it chose from L1, L2 and L3 in turn, and Ctrl-C stops it all', async () => {
    db = await createTestDatabase();
    // npm start seeds its demo warehouse; here into a database and folder of the test's own.
    warehouse = await createTestWarehouse();
    const balancerPort = await freePort();
    const nodePorts = [await freePort(), await freePort(), await freePort()];
    const grpcPorts = [await freePort(), await freePort(), await freePort()];
    cluster = new OwnedProcess('npm-start', process.execPath, [join(REPO_ROOT, 'tools/stack/start-cluster.mjs'), '--no-build'], {
      ...process.env,
      QUARRY_PORT: String(balancerPort),
      QUARRY_NODE_PORTS: nodePorts.join(','),
      QUARRY_GRPC_PORTS: grpcPorts.join(','),
      DATABASE_URL: db.url,
      QUARRY_TOPIC_PREFIX: uniqueTopicPrefix(),
      QUARRY_PG_WAREHOUSE_URL: warehouse.readerUrl,
      QUARRY_DUCKDB_WAREHOUSE: duckdbDir,
    });
    await waitFor('the cluster to say it is up', () => cluster!.allLines().some((l) => l.includes('Quarry is up.')), { timeoutMs: 120_000, intervalMs: 200 });
    // The balancer QUARRY_BALANCER chooses (auto: HAProxy when installed); HAProxy's generated configuration is named.
    const balancerLine = cluster.allLines().find((l) => l.includes(`  balancer   http://127.0.0.1:${balancerPort}`)) ?? '';
    const haproxyConfig = /HAProxy, (\S+\.cfg);/.exec(balancerLine)?.[1];
    expect([balancerLine, haproxyConfig !== undefined]).toEqual([balancerLine, balancerKindHere() === 'haproxy']);
    if (haproxyConfig) expect(existsSync(haproxyConfig)).toBe(true);

    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push((await getJson<{ node: string }>(`http://127.0.0.1:${balancerPort}/health`)).body.node);
    expect(new Set(seen)).toEqual(new Set(['L1', 'L2', 'L3']));
    // Round robin: each answer comes from the node after the previous one.
    for (let i = 1; i < seen.length; i++) expect(Number(seen[i].slice(1))).toBe((Number(seen[i - 1].slice(1)) % 3) + 1);

    // The first query a new user types returns rows, on either driver.
    const lens = new LensClient(`http://127.0.0.1:${balancerPort}`);
    const session = await lens.open('newcomer');
    for (const query of ['SELECT count(*) FROM sales', `SELECT count(*) FROM 'sales.parquet'`]) {
      const answer = await lens.request('POST', 'queryapi/queries', {
        form: { sessionid: session.xml, query, operation: 'EXECUTE_WITH_TIMEOUT', timeoutmillis: '30000' },
        accept: 'application/json',
      });
      expect([query, answer.status]).toEqual([query, 200]);
      expect(JSON.stringify(answer.json())).toContain('"value":1000');
    }

    // Each node serves quarry.v1 on its own gRPC port: the session opened through REST reads there too.
    for (const port of grpcPorts) {
      const grpc = new QuarryGrpcClient(`127.0.0.1:${port}`);
      const params = await grpc.call<{ params: unknown[] }>('SessionService', 'GetParams', { session: { publicId: session.publicId, secretId: session.secretId } }).finally(() => grpc.close());
      expect(Array.isArray(params.params)).toBe(true);
    }

    // The nodes share this run's cluster secret: a result held in one node's memory is read through
    // every node, and their internal routes refuse a caller without it (403; a node running alone has none: 404).
    const held = await lens.request('POST', 'queryapi/queries', {
      form: { sessionid: session.xml, query: 'SELECT 4711 AS v', operation: 'EXECUTE_WITH_TIMEOUT', timeoutmillis: '30000' },
      accept: 'application/json',
    });
    const handle = held.json<{ lensAPIResult: { data: { queryHandle: { handleId: string } } } }>().lensAPIResult.data.queryHandle.handleId;
    for (const port of nodePorts) {
      const rows = await new LensClient(`http://127.0.0.1:${port}`).request('GET', `queryapi/queries/${handle}/resultset`, { query: { sessionid: session.xml }, accept: 'application/json' });
      expect([port, rows.status, rows.text.includes('"value":4711')]).toEqual([port, 200, true]);
      const internal = await fetch(`http://127.0.0.1:${port}/internal/results/${handle}?sessionid=${encodeURIComponent(session.xml)}`);
      expect([port, internal.status, (await internal.text()).includes('4711')]).toEqual([port, 403, false]);
    }

    cluster.kill('SIGINT');
    const { code } = await cluster.exited;
    expect(code).toBe(0);
    for (const port of [balancerPort, ...nodePorts]) {
      await expect(getJson(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    }
    if (haproxyConfig) expect(existsSync(haproxyConfig)).toBe(false);
  });
});
