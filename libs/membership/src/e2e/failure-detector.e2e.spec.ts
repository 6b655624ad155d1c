import { getJson, LensClient, settlesWithin, startTestCluster, waitFor, type Cluster, type NodeProcess, type TestCluster, type TestDatabase } from '@quarry/testing';

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
  cause: 'heartbeat-stopped' | 'restarted';
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

  it('declares a SIGKILLed node down once, by a survivor, though every node detects; a clean stop is LEFT, never DOWN', async () => {
    const victim = cluster.node('L1');
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
    expect(event).toMatchObject({ nodeId: victim.options.nodeId, incarnation: victimIncarnation, cause: 'heartbeat-stopped' });
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

  it('cuts it off from the database at once (the relay it led moves on), and it stops itself without writing anything after its NodeDown', async () => {
    // The node that leads the outbox relay: freezing it must not freeze the cluster's events.
    const leads = async (node: NodeProcess) => /^quarry_outbox_relay_leader 1$/m.test(await fetch(`${node.url}/metrics`).then((r) => r.text()));
    const ghost = await waitFor('one node to lead the relay', async () => {
      const leaders = [];
      for (const node of cluster.nodes) if (await leads(node)) leaders.push(node);
      return leaders.length === 1 ? leaders[0] : undefined;
    });
    const survivor = cluster.nodes.find((n) => n !== ghost)!;
    const { incarnation } = (await getJson<{ incarnation: string }>(`${ghost.url}/health`)).body;
    const sessionsOf = async () =>
      (await running.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1`, [`quarry ${incarnation}`])).rows[0].n;
    expect(await sessionsOf()).toBeGreaterThan(0);
    process.kill(ghost.process.pid, 'SIGSTOP');
    try {
      await waitFor('L1 to declare the stopped L2 down', async () => {
        const { nodes } = (await getJson<{ nodes: { incarnation: string; state: string }[] }>(`${survivor.url}/cluster/nodes`)).body;
        return nodes.find((n) => n.incarnation === incarnation)?.state === 'DOWN';
      });
      // Its sessions (and any lock or transaction they held) are gone while it is still frozen.
      expect(await sessionsOf()).toBe(0);
      // The survivor takes the relay over: an event appended now reaches Kafka and the projection.
      const opened = await new LensClient(survivor.url).open('ona');
      await waitFor('the new session to be projected through Kafka while the old leader is frozen', async () => {
        const { rows } = await running.db.pool.query('SELECT 1 FROM sessions WHERE public_id = $1', [opened.publicId]);
        return rows.length === 1;
      });
      expect(await leads(survivor)).toBe(true);
    } finally {
      process.kill(ghost.process.pid, 'SIGCONT');
    }
    const exit = await settlesWithin(ghost.process.exited, 20_000, 'the frozen node to stop itself');
    expect(exit).toEqual({ code: 75, signal: null });
    expect(ghost.process.allLines().some((l) => l.includes('ended by the cluster'))).toBe(true);
    const { rows } = await running.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM events e, events d
       WHERE d.type = 'NodeDown' AND d.payload->>'incarnation' = $1 AND e.node_incarnation = $1 AND e.global_position > d.global_position`,
      [incarnation],
    );
    expect(rows[0].n).toBe(0);
  });

  it('a node started again with the same id ends its earlier incarnation at once (NodeDown, restarted)', async () => {
    const l1 = cluster.nodes.find((n) => n.process.running)!;
    const id = l1.options.nodeId;
    const before = (await getJson<{ incarnation: string }>(`${l1.url}/health`)).body.incarnation;
    await l1.sigkill();
    const again = await cluster.restart(id);
    const after = (await getJson<{ incarnation: string }>(`${again.url}/health`)).body.incarnation;
    const { rows } = await running.db.pool.query<{ payload: NodeDownPayload }>(`SELECT payload FROM events WHERE type = 'NodeDown' AND payload->>'incarnation' = $1`, [before]);
    expect(rows.map((r) => r.payload)).toEqual([expect.objectContaining({ nodeId: id, incarnation: before, cause: 'restarted' })]);
    expect(after).not.toBe(before);
  });
});
