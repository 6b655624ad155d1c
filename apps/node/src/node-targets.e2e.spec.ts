import { freePort, createTestDatabase, getJson, NodeProcess, OwnedProcess, NODE_MAIN, TcpProxy, testEnv, uniqueTopicPrefix, waitFor, type TestDatabase } from '@quarry/testing';

interface Health {
  node: string;
  services: string[];
  incarnation: string;
}
interface Ready {
  ready: boolean;
  checks: { database: string; kafka: string };
  projections: Record<string, { eventsBehind: number; topicResets: number }> | null;
}

describe('a node process', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  const prefix = uniqueTopicPrefix();
  const nodes: NodeProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const admin = new URL(testEnv().adminUrl);
    proxy = await TcpProxy.start({ host: admin.hostname, port: Number(admin.port || 5432) });
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await proxy.close();
    await db.drop();
  });

  async function start(nodeId: string, targets?: string) {
    // The database is reached through a proxy the test can cut.
    const url = new URL(db.url);
    url.port = String(proxy.port);
    const node = await NodeProcess.start({ nodeId, targets, port: await freePort(), databaseUrl: url.toString(), kafkaBrokers: testEnv().kafkaBrokers, topicPrefix: prefix });
    nodes.push(node);
    return node;
  }

  it('runs every service with --target=all, and only the listed ones with a subset', async () => {
    const all = await start('A1', 'all');
    const some = await start('A2', 'session,query');
    const allHealth = await getJson<Health>(`${all.url}/health`);
    const someHealth = await getJson<Health>(`${some.url}/health`);
    expect(allHealth.body).toMatchObject({ node: 'A1', services: ['gateway', 'session', 'query', 'driver', 'result'] });
    expect(someHealth.body).toMatchObject({ node: 'A2', services: ['session', 'query'] });
    expect(allHealth.body.incarnation).not.toBe(someHealth.body.incarnation);

    // Membership is an event-sourced projection: each node sees both through PostgreSQL (the view is a client route: the gateway's).
    const nodesSeen = await waitFor('both nodes in the membership projection', async () => {
      const answer = await getJson<{ nodes: { nodeId: string; services: string[]; state: string }[] }>(`${all.url}/cluster/nodes`);
      return answer.body.nodes.length === 2 ? answer.body.nodes : undefined;
    });
    expect(nodesSeen.map((n) => [n.nodeId, n.services.length, n.state]).sort()).toEqual([
      ['A1', 5, 'UP'],
      ['A2', 2, 'UP'],
    ]);
  });

  it('gets a fresh incarnation on every start, under the same node id', async () => {
    const node = nodes.find((n) => n.options.nodeId === 'A2')!;
    const before = (await getJson<Health>(`${node.url}/health`)).body.incarnation;
    await node.stop();
    nodes.splice(nodes.indexOf(node), 1);
    const again = await start('A2', 'session,query');
    expect((await getJson<Health>(`${again.url}/health`)).body.incarnation).not.toBe(before);
  });

  it('is not ready while its database is unreachable, and ready again when it returns', async () => {
    const node = nodes[0];
    await waitFor('ready', async () => (await getJson<Ready>(`${node.url}/ready`)).status === 200);
    await proxy.cut();
    const down = await waitFor('not ready without the database', async () => {
      const answer = await getJson<Ready>(`${node.url}/ready`);
      return answer.status === 503 ? answer.body : undefined;
    });
    expect(down).toMatchObject({ ready: false, checks: { database: 'down', kafka: 'up' } });
    expect((await getJson<Health>(`${node.url}/health`)).status).toBe(200);

    await proxy.restore();
    const up = await waitFor('ready again', async () => {
      const answer = await getJson<Ready>(`${node.url}/ready`);
      return answer.status === 200 ? answer.body : undefined;
    });
    expect(up).toEqual({
      node: 'A1',
      ready: true,
      checks: { database: 'up', kafka: 'up' },
      projections: expect.objectContaining({ sessions: { eventsBehind: expect.any(Number), topicResets: 0 } }),
    });
  });

  it('refuses an unknown target with a message that names the choices', async () => {
    const bad = new OwnedProcess('bad', process.execPath, [NODE_MAIN, '--target=session,billing'], process.env);
    const { code } = await bad.exited;
    expect(code).toBe(2);
    expect(bad.output()).toContain('unknown target(s) billing; use all or a list of gateway, session, query, driver, result');
  });
});
