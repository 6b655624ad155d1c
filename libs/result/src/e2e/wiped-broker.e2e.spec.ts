import { getJson, LensClient, PrivateBroker, waitFor, type Cluster, type OpenedSession } from '@quarry/testing';
import { executorOf, getResultset, rowsIn, startResultCluster, submit, succeeded, type ResultCluster } from './result-api';

/** Only L2 runs queries (and holds their results): the others must find its new incarnation to forward. */
const SERVING_ONLY = 'gateway,session,query,result';
const AFTER_WIPE = { timeoutMs: 120_000, intervalMs: 250 };

interface ClusterNode {
  nodeId: string;
  incarnation: string;
  state: string;
}
interface Ready {
  projections: Record<string, { eventsBehind: number; topicResets: number }> | null;
}

describe('a running cluster whose broker loses its data (three nodes, balancer, private broker wiped and restarted)', () => {
  let broker: PrivateBroker;
  let results: ResultCluster;
  let cluster: Cluster;
  const client = (id: string) => results.client(id);
  const ids = ['L1', 'L2', 'L3'];

  const incarnationOf = async (id: string) => (await getJson<{ incarnation: string }>(`${cluster.node(id).url}/health`)).body.incarnation;
  const viewOn = async (id: string) => (await getJson<{ nodes: ClusterNode[] }>(`${cluster.node(id).url}/cluster/nodes`)).body.nodes;
  const listed = async (id: string, session: OpenedSession) => {
    const answer = await client(id).request('GET', 'queryapi/queries', { query: { sessionid: session.xml, state: 'SUCCESSFUL' }, accept: 'application/json' });
    return answer.status === 200 ? answer.json<{ queryHandle: { handleId: string } }[]>().map((q) => q.queryHandle.handleId) : [];
  };

  beforeAll(async () => {
    broker = await PrivateBroker.start();
    results = await startResultCluster({ kafkaBrokers: broker.brokers, nodeTargets: { L1: SERVING_ONLY, L3: SERVING_ONLY } });
    cluster = results.cluster;
  });

  afterAll(async () => {
    await results?.stop();
    await broker?.stop();
  });

  it('sees a node restarted after the wipe UP, serves new sessions and queries through every node, lists them, and forwards results', async () => {
    // Traffic before the wipe, so every projection holds Kafka positions well past what the new
    // topics will carry in this test (node-L2's partition: five events; each query: about eight).
    const lens = new LensClient(cluster.balancerUrl);
    const before = await lens.open('ana');
    for (let i = 0; i < 10; i++) await succeeded(lens, before, await submit(lens, before, `SELECT ${i} AS n`));
    for (let i = 0; i < 2; i++) await cluster.restart('L2');

    await broker.kill();
    broker.wipeData();
    await broker.startAgain();
    const l2 = await cluster.restart('L2');
    const incarnation = await incarnationOf('L2');

    for (const id of ['L1', 'L3']) {
      await waitFor(`${id} to see L2's new incarnation UP`, async () => (await viewOn(id)).some((n) => n.incarnation === incarnation && n.state === 'UP'), AFTER_WIPE);
    }

    const session = await lens.open('bea');
    const handles: string[] = [];
    for (const [i, id] of ids.entries()) {
      expect((await client(id).params(session)).status).toBe(200);
      const handle = await submit(client(id), session, `SELECT g * ${i + 1} AS n FROM generate_series(1, 3) g ORDER BY g`);
      await succeeded(client(id), session, handle, AFTER_WIPE.timeoutMs);
      handles.push(handle);
    }
    for (const id of ids) {
      await waitFor(`${id} to list the three new queries as SUCCESSFUL`, async () => {
        const onNode = await listed(id, session);
        return handles.every((h) => onNode.includes(h));
      }, AFTER_WIPE);
    }

    for (const [i, handle] of handles.entries()) {
      expect(await executorOf(results.db.pool, handle)).toBe('L2');
      for (const id of ['L1', 'L3']) {
        expect(rowsIn(await getResultset(client(id), session, handle))).toEqual([1, 2, 3].map((g) => [g * (i + 1)]));
      }
    }

    const readiness = await Promise.all(
      ids.map((id) =>
        waitFor(`${id}'s projections to have no lag`, async () => {
          const { body } = await getJson<Ready>(`${cluster.node(id).url}/ready`);
          return body.projections && Object.values(body.projections).every((p) => p.eventsBehind === 0) ? body.projections : undefined;
        }, AFTER_WIPE),
      ),
    );
    const resets = readiness.flatMap((projections) => Object.values(projections)).reduce((sum, p) => sum + p.topicResets, 0);
    expect(resets).toBeGreaterThan(0);
    expect(l2.process.running).toBe(true);
    expect(cluster.nodes.every((n) => n.process.running)).toBe(true);
  });
});
