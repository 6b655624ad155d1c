import { createTestDatabase, createTestWarehouse, freePort, getJson, NodeProcess, testEnv, uniqueTopicPrefix, type TestDatabase, type TestWarehouse } from '@quarry/testing';

/** A node's warehouse role is checked at start: a superuser's is refused unless QUARRY_PG_ALLOW_PRIVILEGED says otherwise. */
describe('a node with a privileged warehouse role', () => {
  let db: TestDatabase;
  let warehouse: TestWarehouse;
  const nodes: NodeProcess[] = [];
  const prefix = uniqueTopicPrefix();

  beforeAll(async () => {
    db = await createTestDatabase();
    warehouse = await createTestWarehouse();
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await db?.drop();
    await warehouse?.drop();
  });

  const options = async (nodeId: string, env: Record<string, string>) => ({
    nodeId,
    port: await freePort(),
    databaseUrl: db.url,
    kafkaBrokers: testEnv().kafkaBrokers,
    topicPrefix: prefix,
    env,
  });
  const logLines = (node: NodeProcess) => node.process.allLines().flatMap((line) => (line.startsWith('{') ? [JSON.parse(line) as { level: number; msg: string }] : []));

  it('refuses to start as a superuser: an error line saying why, exit code 1', async () => {
    const node = NodeProcess.launch(await options('P1', { QUARRY_PG_WAREHOUSE_URL: warehouse.url }));
    nodes.push(node);
    expect(await node.process.exited).toEqual({ code: 1, signal: null });
    // NestJS logs the failed start (pino level 50, error) and exits 1.
    const errors = logLines(node).filter((l) => l.level === 50);
    expect(errors.map((l) => l.msg)).toEqual([
      expect.stringMatching(/^Error: pg driver: the warehouse role "postgres" is privileged \(a superuser\): .*QUARRY_PG_ALLOW_PRIVILEGED=true$/),
    ]);
    await expect(getJson(`${node.url}/health`)).rejects.toThrow();
  });

  it('starts with QUARRY_PG_ALLOW_PRIVILEGED=true, saying so as a warning', async () => {
    const node = await NodeProcess.start(await options('P2', { QUARRY_PG_WAREHOUSE_URL: warehouse.url, QUARRY_PG_ALLOW_PRIVILEGED: 'true' }));
    nodes.push(node);
    expect((await getJson<{ node: string }>(`${node.url}/health`)).body.node).toBe('P2');
    // pino's level 40 is warn.
    expect(logLines(node).filter((l) => l.level === 40).map((l) => l.msg)).toContain(
      'QUARRY_PG_ALLOW_PRIVILEGED=true: the pg driver runs queries even as a privileged warehouse role (superuser, server files)',
    );
  });

  it('starts when the warehouse does not answer yet, saying the role is checked on each connection then', async () => {
    const missing = Object.assign(new URL(warehouse.url), { pathname: `/${warehouse.name}_not_yet` }).toString();
    const node = await NodeProcess.start(await options('P3', { QUARRY_PG_WAREHOUSE_URL: missing }));
    nodes.push(node);
    expect((await getJson<{ node: string }>(`${node.url}/health`)).body.node).toBe('P3');
    expect(logLines(node).filter((l) => l.level === 40).map((l) => l.msg)).toContain('the pg warehouse does not answer; the driver checks the role of each connection it opens');
  });
});
