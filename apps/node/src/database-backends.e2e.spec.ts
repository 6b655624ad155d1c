import { Client } from 'pg';
import { Cluster, createTestWarehouse, LensClient, testEnv, uniqueTopicPrefix, waitFor, type OpenedSession, type TestWarehouse } from '@quarry/testing';

interface LensQueryJson {
  lensQuery: { status: { status: string; errorMessage?: string } };
}

interface Answer {
  what: string;
  status: number;
  errorCode?: number;
  text: string;
}

const TERMINAL = ['SUCCESSFUL', 'FAILED', 'CANCELED', 'CLOSED'];
/** What a node prints when an error escapes: Node's own report, or main's last-resort handlers. */
const ESCAPED = /Unhandled 'error' event|uncaught|unhandled|"level":60/i;

/**
 * Every backend of the cluster's database terminated (57P01, as an operator or a failover would),
 * several times, while clients keep asking. The warehouse is the same database, so a running
 * pg_sleep loses its warehouse connection too.
 */
describe("the cluster database's backends terminated under load (three nodes behind the balancer)", () => {
  let db: TestWarehouse;
  let cluster: Cluster;
  let lens: LensClient;
  let nodes: LensClient[];
  let session: OpenedSession;
  let admin: Client;
  const escaped: string[] = [];

  const submit = (client: LensClient, query: string, s = session) =>
    client.request('POST', 'queryapi/queries', { form: { sessionid: s.xml, query, operation: 'EXECUTE' }, accept: 'application/json' });
  const handleOf = (answer: { json: <T>() => T }) => answer.json<{ lensAPIResult: { data: { handleId: string } } }>().lensAPIResult.data.handleId;
  const statusAnswer = (client: LensClient, handle: string) => client.request('GET', `queryapi/queries/${handle}`, { query: { sessionid: session.xml }, accept: 'application/json' });
  const statusOf = async (client: LensClient, handle: string) => {
    const answer = await statusAnswer(client, handle);
    if (answer.status !== 200) throw new Error(`status of ${handle}: ${answer.status} ${answer.text}`);
    return answer.json<LensQueryJson>().lensQuery.status;
  };
  const finished = (handle: string, timeoutMs = 30_000) =>
    waitFor(
      `query ${handle} to finish`,
      async () => {
        const status = await statusOf(lens, handle);
        return TERMINAL.includes(status.status) ? status : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
  /** Terminates every backend of the cluster's database (only that database), from a connection to another one. */
  const terminateBackends = async () =>
    (await admin.query<{ n: number }>(`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [db.name])).rows[0].n;
  /** The pg_sleep's warehouse connection (application_name 'quarry <session>') busy with its first FETCH. */
  const sleeping = async () =>
    (await admin.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND application_name LIKE 'quarry %' AND query LIKE 'FETCH%'`, [db.name])).rows.length > 0;

  beforeAll(async () => {
    db = await createTestWarehouse();
    admin = new Client({ connectionString: testEnv().adminUrl });
    await admin.connect();
    cluster = await Cluster.start({
      databaseUrl: db.url,
      kafkaBrokers: testEnv().kafkaBrokers,
      topicPrefix: uniqueTopicPrefix(),
      env: { QUARRY_PG_WAREHOUSE_URL: db.readerUrl, QUARRY_MAX_RUNNING_QUERIES: '2', QUARRY_MAX_SESSIONS_PER_USER: '50' },
    });
    // Every line from here on (the process keeps only its last 400), and what it printed so far.
    for (const node of cluster.nodes) {
      const keep = (line: string) => ESCAPED.test(line) && escaped.push(`${node.options.nodeId}: ${line}`);
      node.process.allLines().forEach(keep);
      for (const stream of [node.process.child.stdout, node.process.child.stderr]) {
        let partial = '';
        stream?.on('data', (chunk: Buffer) => {
          const lines = (partial + chunk.toString('utf8')).split('\n');
          partial = lines.pop() ?? '';
          lines.forEach(keep);
        });
      }
    }
    lens = new LensClient(cluster.balancerUrl);
    nodes = cluster.nodes.map((n) => new LensClient(n.url));
    session = await lens.open('ana');
  });

  afterAll(async () => {
    await cluster?.stop();
    await admin?.end();
    await db?.drop();
  });

  it('keeps every node up, answers 503 (never 500) while the database is away, and everything works again after', async () => {
    // On a session of its own: a driver session runs its queries one after another.
    const sleep = handleOf(await submit(lens, 'SELECT pg_sleep(60)', await lens.open('ana')));
    const quick: string[] = [];
    for (let i = 0; i < 4; i++) quick.push(handleOf(await submit(lens, `SELECT ${i} AS v`)));
    for (const handle of quick) expect((await finished(handle)).status).toBe('SUCCESSFUL');
    await waitFor('the pg_sleep to run on the warehouse', sleeping, { timeoutMs: 20_000 });

    // Three clients that keep asking through the balancer, so statements are in flight when the
    // backends go: query status, session params, health, readiness, and now and then a submit.
    const answers: Answer[] = [];
    const accepted: string[] = [];
    let polling = true;
    const ask = async (what: string, request: () => Promise<{ status: number; errorCode?: number; text: string }>) => {
      try {
        const { status, errorCode, text } = await request();
        answers.push({ what, status, errorCode, text: text.slice(0, 300) });
        return status;
      } catch (error) {
        answers.push({ what, status: 0, text: (error as Error).message });
        return 0;
      }
    };
    const plain = (path: string) => async () => {
      const response = await fetch(`${cluster.balancerUrl}/${path}`, { signal: AbortSignal.timeout(10_000) });
      return { status: response.status, text: await response.text() };
    };
    const lanes = [0, 1, 2].map(async (lane) => {
      for (let turn = 0; polling; turn++) {
        for (const handle of [sleep, ...quick]) await ask('status', () => statusAnswer(lens, handle));
        await ask('params', () => lens.params(session));
        await ask('health', plain('health'));
        await ask('ready', plain('ready'));
        if (turn % 3 === lane) {
          let answer: Awaited<ReturnType<typeof submit>> | undefined;
          if ((await ask('submit', async () => (answer = await submit(lens, `SELECT ${lane * 1000 + turn} AS v`)))) === 200 && answer) accepted.push(handleOf(answer));
        }
      }
    });
    const poller = Promise.all(lanes);

    const rounds = 5;
    let terminated = 0;
    let sleepEnd: Awaited<ReturnType<typeof finished>> | undefined;
    try {
      for (let round = 1; round <= rounds; round++) {
        const before = answers.length;
        terminated += await terminateBackends();
        // The pg_sleep's warehouse connection went in the first round: that query ends.
        if (round === 1) sleepEnd = await finished(sleep);
        // Back before the next round: every node answers a status read from its own database...
        const back = await waitFor(
          `round ${round}: every node to answer again`,
          async () => {
            const gone = cluster.nodes.find((n) => !n.process.running);
            if (gone) return `${gone.options.nodeId} exited:\n${gone.process.output(20)}`;
            return (await Promise.all(nodes.map((node) => statusAnswer(node, quick[0])))).every((a) => a.status === 200) && 'every node answers';
          },
          { timeoutMs: 30_000, intervalMs: 100 },
        );
        expect(back).toBe('every node answers');
        // ... and the clients have had a good many answers since (the next round hits them mid-flight).
        await waitFor(`round ${round}: the clients to get statuses again`, () => answers.slice(before).filter((a) => a.what === 'status' && a.status === 200).length >= 30, {
          timeoutMs: 30_000,
        });
      }
    } finally {
      polling = false;
      await poller;
    }
    expect(terminated).toBeGreaterThanOrEqual(rounds * 3);

    // No node died or stopped itself, and none let an error escape.
    expect(cluster.nodes.map((n) => [n.options.nodeId, n.process.running])).toEqual([
      ['L1', true],
      ['L2', true],
      ['L3', true],
    ]);
    expect(escaped).toEqual([]);

    // No 500 (nor a 502 from the balancer, nor a failed request): 503 with the Lens code at most.
    const unexpected = answers.filter((a) => a.status !== 200 && !(a.status === 503 && (a.what === 'ready' || a.errorCode === 9004)));
    expect(unexpected).toEqual([]);

    // The query whose warehouse connection was terminated failed, saying so.
    expect(sleepEnd).toMatchObject({ status: 'FAILED', errorMessage: expect.stringMatching(/warehouse connection was lost.*terminating connection due to administrator command/i) });

    // Everything works again: every query accepted during the terminations ended (none is left
    // RUNNING or QUEUED) and every node says so; new queries through every node, a new session,
    // readiness all succeed.
    expect(accepted.length).toBeGreaterThan(0);
    for (const handle of accepted) {
      const { status } = await finished(handle);
      expect(TERMINAL).toContain(status);
      for (const node of nodes) expect((await statusOf(node, handle)).status).toBe(status);
    }
    for (const node of nodes) {
      const after = handleOf(await submit(node, 'SELECT 42 AS v'));
      expect((await finished(after)).status).toBe('SUCCESSFUL');
      expect((await node.params(session)).status).toBe(200);
    }
    const fresh = await lens.open('ana');
    expect((await lens.close(fresh)).status).toBe(200);
    for (const node of cluster.nodes) {
      const ready = await waitFor(`${node.options.nodeId} to be ready`, async () => (await fetch(`${node.url}/ready`)).status === 200);
      expect(ready).toBe(true);
    }
  });
});
