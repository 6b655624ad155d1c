import { getJson, settlesWithin, startTestCluster, waitFor, type Cluster, type NodeProcess, type TestCluster, type TestDatabase } from '@quarry/testing';

interface ClusterNode {
  nodeId: string;
  incarnation: string;
  state: 'UP' | 'LEFT' | 'DOWN';
  endedAt: string | null;
  lastHeartbeatAt: string | null;
}

interface NodeDownPayload {
  nodeId: string;
  incarnation: string;
  detectedBy: string;
  lastHeartbeatAt: string;
}

const DOWN_AFTER_MS = 1500;
const DETECTOR_ENV = { QUARRY_HEARTBEAT_MS: '200', QUARRY_NODE_DOWN_AFTER_MS: String(DOWN_AFTER_MS) };

describe('failure detector (three nodes, heartbeat every 200 ms, down after 1.5 s of silence)', () => {
  let db: TestDatabase;
  let cluster: Cluster;

  const incarnationOf = async (node: NodeProcess) => (await getJson<{ incarnation: string }>(`${node.url}/health`)).body.incarnation;
  const clusterNodes = async (node: NodeProcess) => (await getJson<{ nodes: ClusterNode[] }>(`${node.url}/cluster/nodes`)).body.nodes;
  const rowOf = async (node: NodeProcess, incarnation: string) => (await clusterNodes(node)).find((n) => n.incarnation === incarnation);
  const nodeDowns = async () =>
    (await db.pool.query<{ payload: NodeDownPayload }>(`SELECT payload FROM events WHERE type = 'NodeDown' ORDER BY global_position`)).rows.map((r) => r.payload);
  const leadsDetector = (node: NodeProcess) => node.process.allLines().some((l) => l.includes('node failure detector: this node now leads'));

  let running: TestCluster;

  beforeAll(async () => {
    running = await startTestCluster({ env: DETECTOR_ENV });
    ({ db, cluster } = running);
  });

  afterAll(() => running?.stop());

  it('lists every node UP with a heartbeat that keeps moving', async () => {
    const incarnations = await Promise.all(cluster.nodes.map(incarnationOf));
    const first = await waitFor('three UP nodes with a heartbeat', async () => {
      const nodes = (await clusterNodes(cluster.node('L1'))).filter((n) => incarnations.includes(n.incarnation));
      return nodes.length === 3 && nodes.every((n) => n.state === 'UP' && n.lastHeartbeatAt) ? nodes : undefined;
    });
    const l3 = first.find((n) => n.nodeId === 'L3');
    await waitFor('L3 to beat again', async () => String((await rowOf(cluster.node('L2'), String(l3?.incarnation)))?.lastHeartbeatAt) > String(l3?.lastHeartbeatAt));
  });

  it('declares a SIGKILLed node down once, by a survivor, even when it was the detector leader; a clean stop is LEFT, never DOWN', async () => {
    // Killing the leader also makes another node take the detector over.
    const victim = await waitFor('one node to lead the detector', () => {
      const leaders = cluster.nodes.filter(leadsDetector);
      return leaders.length === 1 ? leaders[0] : undefined;
    });
    const survivors = cluster.nodes.filter((n) => n !== victim);
    const victimIncarnation = await incarnationOf(victim);
    const survivorIncarnations = await Promise.all(survivors.map(incarnationOf));
    await victim.sigkill();

    const down = await waitFor(
      `${victim.options.nodeId} to be DOWN on a survivor`,
      async () => {
        const row = await rowOf(survivors[0], victimIncarnation);
        return row?.state === 'DOWN' ? row : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    const [event, ...others] = await nodeDowns();
    expect(others).toEqual([]);
    expect(event).toMatchObject({ nodeId: victim.options.nodeId, incarnation: victimIncarnation });
    expect(survivors.map((n) => n.options.nodeId)).toContain(event.detectedBy);
    expect(new Date(event.lastHeartbeatAt).getTime()).toBe(new Date(String(down.lastHeartbeatAt)).getTime());

    const detector = cluster.node(event.detectedBy);
    const metrics = await fetch(`${detector.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^quarry_nodes_declared_down_total 1$/m);

    // The other survivor stops cleanly; the detector must see its silence as leaving, not failing.
    const leaverAt = survivors.findIndex((n) => n !== detector);
    const [leaver, leaverIncarnation] = [survivors[leaverAt], survivorIncarnations[leaverAt]];
    await leaver.stop();
    await waitFor(`${leaver.options.nodeId} to be LEFT`, async () => (await rowOf(detector, leaverIncarnation))?.state === 'LEFT');
    await waitFor(
      `${leaver.options.nodeId}'s heartbeat to be silent for twice the down-after time (database clock)`,
      async () => {
        const { rows } = await db.pool.query<{ silent: boolean }>(
          `SELECT beat_at < now() - make_interval(secs => $2::double precision / 1000) AS silent FROM node_heartbeats WHERE incarnation = $1`,
          [leaverIncarnation, 2 * DOWN_AFTER_MS],
        );
        return rows[0]?.silent;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );

    expect((await rowOf(detector, leaverIncarnation))?.state).toBe('LEFT');
    expect((await rowOf(detector, await incarnationOf(detector)))?.state).toBe('UP');
    // Still the one NodeDown: none for the leaver, none for the detector, no second one for the victim.
    expect((await nodeDowns()).map((p) => p.incarnation)).toEqual([victimIncarnation]);
  });
});

describe('a node declared down while alive (SIGSTOP past the down-after time, then SIGCONT)', () => {
  let cluster: Cluster;
  let running: TestCluster;

  beforeAll(async () => {
    running = await startTestCluster({ size: 2, env: DETECTOR_ENV });
    ({ cluster } = running);
  });

  afterAll(() => running?.stop());

  it('stops itself once it learns the cluster declared it down, instead of acting on as a ghost', async () => {
    const ghost = cluster.node('L2');
    const { incarnation } = (await getJson<{ incarnation: string }>(`${ghost.url}/health`)).body;
    process.kill(ghost.process.pid, 'SIGSTOP');
    try {
      await waitFor('L1 to declare the stopped L2 down', async () => {
        const { nodes } = (await getJson<{ nodes: { incarnation: string; state: string }[] }>(`${cluster.node('L1').url}/cluster/nodes`)).body;
        return nodes.find((n) => n.incarnation === incarnation)?.state === 'DOWN';
      });
    } finally {
      process.kill(ghost.process.pid, 'SIGCONT');
    }
    const exit = await settlesWithin(ghost.process.exited, 20_000, 'L2 to stop itself');
    expect(exit).toEqual({ code: 75, signal: null });
    expect(ghost.process.allLines().some((l) => l.includes('declared down by the cluster'))).toBe(true);
  });
});
