import { createServer, type Server, type Socket } from 'node:net';
import { freePort, getRequestTarget, LensClient, NodeProcess, TcpProxy, TEST_CLUSTER_SECRET, type Cluster } from '@quarry/testing';
import { getResultset, rowsIn, SERVING_ONLY, startResultCluster, submit, succeeded, type ResultCluster } from './result-api';

const SECRET_HEADER = 'x-quarry-cluster-secret';
const FORWARDED_HEADER = 'x-quarry-forwarded-by';

/** A listener standing for a host an attacker names in a request target; it counts who connects. */
async function startDecoy(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.end('HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\ndecoy');
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const close = () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    return closed;
  };
  return { port, connections: () => sockets.size, close };
}

/**
 * Three nodes behind a balancer that does not route pages to their holder (ADR 21); queries run on
 * L1 only, so L2 and L3 hold no result and forward.
 * The others reach L1 through a TCP proxy (its advertised URL), so a test can reset the kept-alive
 * connections between nodes as a server closing them would.
 */
describe('node-to-node traffic: internal routes, forwards and keep-alive (three nodes, balancer)', () => {
  let results: ResultCluster;
  let cluster: Cluster;
  let lens: LensClient;
  let toL1: TcpProxy;
  const portOf = (id: string) => cluster.node(id).options.port;

  beforeAll(async () => {
    results = await startResultCluster({
      nodeTargets: { L2: SERVING_ONLY, L3: SERVING_ONLY },
      // Under 32 lanes on a small shared machine a node's /health can take over the default 1 s; the
      // balancer would then cut that node's requests (502, its frozen-node policy, tested on its own).
      // This suite is about node-to-node traffic, so the balancer gives /health more time here.
      balancerArgs: ['--health-timeout-ms', '5000'],
      // Forwarding is what this suite is about: a routing balancer would take the pages to L1 itself.
      routeResults: false,
      nodeEnv: async (nodeId, port) => {
        if (nodeId !== 'L1') return {};
        toL1 = await TcpProxy.start({ host: '127.0.0.1', port });
        return { QUARRY_ADVERTISED_URL: `http://127.0.0.1:${toL1.port}` };
      },
    });
    ({ cluster } = results);
    lens = new LensClient(cluster.balancerUrl);
  });

  afterAll(async () => {
    await results?.stop();
    await toL1?.close();
  });

  it('an absolute-form request to a node that does not hold the result gets the rows from the holder, never from the host it names', async () => {
    const decoy = await startDecoy();
    try {
      const session = await lens.open('ana');
      const handle = await submit(lens, session, `SELECT 'row-' || g AS v FROM generate_series(1, 3) g ORDER BY g`);
      await succeeded(lens, session, handle);
      const query = `sessionid=${encodeURIComponent(session.xml)}&fetchsize=10`;
      for (const id of ['L2', 'L3']) {
        const answer = await getRequestTarget(portOf(id), `http://127.0.0.1:${decoy.port}/lensapi/queryapi/queries/${handle}/resultset?${query}`, { accept: 'application/json' });
        expect([id, answer.status]).toEqual([id, 200]);
        const rows = (JSON.parse(answer.text) as { inMemoryQueryResult: { rows: { values: { value: string }[] }[] } }).inMemoryQueryResult.rows;
        expect(rows.map((r) => r.values[0].value)).toEqual(['row-1', 'row-2', 'row-3']);
      }
      expect(decoy.connections()).toBe(0);
    } finally {
      await decoy.close();
    }
  });

  it('/internal/results answers only callers with the cluster secret: none, a wrong one, or through the balancer get no rows', async () => {
    const session = await lens.open('bo');
    const handle = await submit(lens, session, `SELECT 'confidential-4711' AS v`);
    await succeeded(lens, session, handle);
    const path = `/internal/results/${handle}?sessionid=${encodeURIComponent(session.xml)}&fromindex=0&fetchsize=10`;
    const ask = async (url: string, headers: Record<string, string>) => {
      const response = await fetch(url, { headers: { accept: 'application/json', ...headers } });
      return { status: response.status, code: response.headers.get('x-lens-error-code'), text: await response.text() };
    };
    const wrong = TEST_CLUSTER_SECRET.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    for (const id of ['L1', 'L2']) {
      const url = `${cluster.node(id).url}${path}`;
      for (const [what, headers] of [
        ['no secret', {}],
        ['no secret, a forged forwarding header', { [FORWARDED_HEADER]: 'L2' }],
        ['a wrong secret', { [SECRET_HEADER]: wrong }],
        ['a wrong secret of another length', { [SECRET_HEADER]: 'guess', [FORWARDED_HEADER]: 'L2' }],
      ] as const) {
        const answer = await ask(url, headers);
        expect([id, what, answer.status, answer.code, answer.text.includes('confidential-4711')]).toEqual([id, what, 403, '1004', false]);
        expect(answer.text).toContain('only the nodes of this cluster may call');
      }
    }
    const viaBalancer = await ask(`${cluster.balancerUrl}${path}`, { [SECRET_HEADER]: TEST_CLUSTER_SECRET });
    expect([viaBalancer.status, viaBalancer.text.includes('confidential-4711')]).toEqual([404, false]);

    // The route itself works for a peer: the refusals above are the secret's doing.
    const peer = await ask(`${cluster.node('L1').url}${path}`, { [SECRET_HEADER]: TEST_CLUSTER_SECRET, [FORWARDED_HEADER]: 'L2' });
    expect([peer.status, peer.text.includes('confidential-4711')]).toEqual([200, true]);
  });

  it('a client-sent x-quarry-forwarded-by (with or without a guessed secret) changes nothing: every node still answers the rows', async () => {
    const session = await lens.open('cy');
    const handle = await submit(lens, session, 'SELECT g AS n FROM generate_series(1, 4) g ORDER BY g');
    await succeeded(lens, session, handle);
    const expected = [[1], [2], [3], [4]];
    for (const base of [cluster.balancerUrl, ...cluster.nodes.map((n) => n.url)]) {
      for (const headers of [{ [FORWARDED_HEADER]: 'L1' }, { [FORWARDED_HEADER]: 'L9', [SECRET_HEADER]: 'guess' }]) {
        const answer = await new LensClient(base).request('GET', `queryapi/queries/${handle}/resultset`, { query: { sessionid: session.xml }, accept: 'application/json', headers });
        expect([base, headers, answer.status, rowsIn(answer)]).toEqual([base, headers, 200, expected]);
      }
    }
  });

  it('a node without the cluster secret refuses to start beside running nodes; a node with another secret gets a 503 that says so', async () => {
    // L1's settings, but not its ports: a node beside it needs HTTP and gRPC ports of its own.
    const base = { ...cluster.node('L1').options, grpcPort: undefined };
    const secretless = NodeProcess.start({ ...base, nodeId: 'L8', port: await freePort(), targets: SERVING_ONLY, env: { ...base.env, QUARRY_CLUSTER_SECRET: '' } });
    await expect(secretless).rejects.toThrow(/QUARRY_CLUSTER_SECRET is not set.*L1/s);

    const session = await lens.open('dee');
    const handle = await submit(lens, session, `SELECT 'for-peers-only' AS v`);
    await succeeded(lens, session, handle);
    const stranger = await NodeProcess.start({ ...base, nodeId: 'L9', port: await freePort(), targets: SERVING_ONLY, env: { ...base.env, QUARRY_CLUSTER_SECRET: 'another-secret-of-32-characters!' } });
    try {
      const answer = await getResultset(new LensClient(stranger.url), session, handle);
      expect([answer.status, answer.errorCode]).toEqual([503, 9003]);
      expect(answer.text).toContain('QUARRY_CLUSTER_SECRET');
      expect(answer.text).not.toContain('for-peers-only');
    } finally {
      await stranger.stop();
    }
  });

  it('forwarded pages under load: 32 lanes through the balancer, every reused node-to-node connection reset as it is reused, no 5xx', async () => {
    const session = await lens.open('eve');
    const handle = await submit(lens, session, 'SELECT g AS n FROM generate_series(1, 200) g ORDER BY g');
    await succeeded(lens, session, handle);
    const LANES = 32;
    const PER_LANE = 25;
    const failures: string[] = [];
    toL1.resetReusedConnections(true);
    try {
      await Promise.all(
        Array.from({ length: LANES }, async (_, lane) => {
          for (let i = 0; i < PER_LANE; i++) {
            const from = (lane * PER_LANE + i) % 196;
            const answer = await getResultset(lens, session, handle, { fromindex: String(from), fetchsize: '5' });
            if (answer.status !== 200) failures.push(`${answer.status} ${answer.text}`);
            else if (JSON.stringify(rowsIn(answer)) !== JSON.stringify([1, 2, 3, 4, 5].map((k) => [from + k]))) failures.push(`wrong rows at ${from}: ${answer.text}`);
          }
        }),
      );
    } finally {
      toL1.resetReusedConnections(false);
    }
    expect(failures).toEqual([]);
    // The fault was there: kept-alive connections between nodes were reused and reset.
    expect(toL1.resetCount).toBeGreaterThan(0);
  });
});
