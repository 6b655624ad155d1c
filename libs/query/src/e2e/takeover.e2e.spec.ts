import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { confXml, waitFor, type Cluster, type LensClient, type OpenedSession, type TestDatabase } from '@quarry/testing';
import { firstInvalidStep } from '../domain/query-status';
import { firstColumn, queryEvents, queryStatus, startQueryCluster, submitQuery, TERMINAL_EVENTS, type QueryCluster } from './query-api';

const FAST_DETECTION = { QUARRY_HEARTBEAT_MS: '200', QUARRY_NODE_DOWN_AFTER_MS: '1500' };

describe('takeover: a node dies, its queries run on elsewhere (three nodes behind the balancer)', () => {
  let running: QueryCluster;
  let db: TestDatabase;
  let warehouse: TestDatabase;
  let cluster: Cluster;
  let lens: LensClient;
  let session: OpenedSession;
  const resultDir = mkdtempSync(join(tmpdir(), 'quarry-takeover-results-'));

  const submit = (query: string) => submitQuery(lens, session, query);
  const statusOf = (handle: string) => queryStatus(lens, session, handle);
  const valueOf = async (handle: string) => (await firstColumn(lens, session, handle))[0];
  const eventsOf = (handle: string) => queryEvents(db.pool, handle);
  const runningOn = async (handles: string[]) => {
    const on = new Map<string, string>();
    for (const handle of handles) {
      const launched = (await eventsOf(handle)).filter((e) => e.type === 'QueryLaunched');
      if (launched.length) on.set(handle, String(launched[launched.length - 1].payload.executorNodeId));
    }
    return on;
  };
  const allSucceeded = (handles: string[]) =>
    waitFor(
      'every query to succeed',
      async () => {
        const statuses = await Promise.all(handles.map(statusOf));
        if (statuses.some((s) => ['FAILED', 'CANCELED'].includes(s.status))) throw new Error(`a query did not succeed: ${JSON.stringify(statuses)}`);
        return statuses.every((s) => s.status === 'SUCCESSFUL') ? statuses : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );

  /** Twelve sleeping queries, all running, spread over the three nodes (four slots each). */
  const twelveRunning = async (tag: number, sleepSeconds = 3) => {
    const handles: string[] = [];
    for (let k = 0; k < 12; k++) handles.push(await submit(`SELECT ${tag + k} AS k, pg_sleep(${sleepSeconds})`));
    await waitFor('all twelve to be running', async () => (await runningOn(handles)).size === 12 && (await Promise.all(handles.map(statusOf))).every((s) => s.status === 'RUNNING'));
    return handles;
  };

  /** Each query ran once to its end with the right value; the orphans of `dead` went FAILING -> QUEUED -> attempt 2 elsewhere. */
  const checkHistories = async (handles: string[], tag: number, dead: { nodeId: string; incarnation: string }, reasons: string[]) => {
    const orphaned: string[] = [];
    for (const [k, handle] of handles.entries()) {
      const events = await eventsOf(handle);
      expect({ handle, invalid: firstInvalidStep(events.map((e) => e.type)) }).toEqual({ handle, invalid: undefined });
      expect(events.filter((e) => TERMINAL_EVENTS.includes(e.type)).map((e) => e.type)).toEqual(['QuerySucceeded']);
      expect(Number(await valueOf(handle))).toBe(tag + k);
      const orphan = events.find((e) => e.type === 'QueryAttemptOrphaned');
      if (!orphan) continue;
      orphaned.push(handle);
      expect(orphan.payload).toMatchObject({ attempt: 1, incarnation: dead.incarnation });
      expect(reasons).toContain(orphan.payload.reason);
      expect(orphan.payload.takenOverBy).not.toBe(dead.nodeId);
      const launches = events.filter((e) => e.type === 'QueryLaunched');
      expect(launches.map((e) => e.payload.attempt)).toEqual([1, 2]);
      expect(launches[1].payload.executorIncarnation).not.toBe(dead.incarnation);
      // The new attempt ran on a survivor, and nothing the old attempt did landed after the takeover.
      const after = events.slice(events.indexOf(orphan));
      expect(after.filter((e) => e.payload.attempt === 1 && e.type !== 'QueryAttemptOrphaned')).toEqual([]);
    }
    return orphaned;
  };

  const submitPersisted = (query: string) => submitQuery(lens, session, query, { conf: confXml({ 'lens.query.enable.persistent.resultset': 'true' }) });

  beforeAll(async () => {
    running = await startQueryCluster({ ...FAST_DETECTION, QUARRY_RESULT_DIR: resultDir, QUARRY_MAX_RUNNING_QUERIES: '4' });
    ({ db, warehouse, cluster, lens, session } = running);
  });

  afterAll(async () => {
    await running?.stop();
    rmSync(resultDir, { recursive: true, force: true });
  });

  it('SIGKILL: the dead node\'s running queries are taken over once, through FAILING and QUEUED, and succeed on the survivors', async () => {
    const handles = await twelveRunning(100);
    const on = await runningOn(handles);
    const victim = cluster.node('L2');
    const incarnation = (await (await fetch(`${victim.url}/health`)).json()).incarnation as string;
    const theirs = handles.filter((h) => on.get(h) === 'L2');
    expect(theirs.length).toBeGreaterThan(0);
    // The cluster view says what each incarnation runs, current to the work table.
    const view = (await (await fetch(`${cluster.balancerUrl}/cluster/nodes`)).json()) as {
      nodes: { nodeId: string; incarnation: string; state: string; msSinceHeartbeat: number; runningQueries: { count: number; handles: string[] } }[];
    };
    const l2 = view.nodes.find((n) => n.incarnation === incarnation)!;
    expect(l2.runningQueries.count).toBe(theirs.length);
    expect([...l2.runningQueries.handles].sort()).toEqual([...theirs].sort());
    expect(view.nodes.filter((n) => n.state === 'UP').reduce((sum, n) => sum + n.runningQueries.count, 0)).toBe(12);
    expect(l2.msSinceHeartbeat).toBeGreaterThanOrEqual(0);
    await victim.sigkill();

    await allSucceeded(handles);
    const orphaned = await checkHistories(handles, 100, { nodeId: 'L2', incarnation }, ['node-down']);
    expect(orphaned.sort()).toEqual([...theirs].sort());
    const message = (await statusOf(theirs[0])).statusMessage;
    expect(message).toContain('attempt 1 on node L2');
    await cluster.restart('L2');
  });

  it('restart with the same id: the old incarnation\'s queries are taken over exactly once', async () => {
    const handles = await twelveRunning(200);
    const on = await runningOn(handles);
    const victim = cluster.node('L3');
    const incarnation = (await (await fetch(`${victim.url}/health`)).json()).incarnation as string;
    const theirs = handles.filter((h) => on.get(h) === 'L3');
    expect(theirs.length).toBeGreaterThan(0);
    await victim.sigkill();
    // Started again well within the down-after time: the new incarnation ends the old one itself.
    await cluster.restart('L3');

    await allSucceeded(handles);
    // Whoever noticed first: the new incarnation at its start, or the detector if the start took
    // longer than the down-after time. Either way the old one ended once.
    const orphaned = await checkHistories(handles, 200, { nodeId: 'L3', incarnation }, ['node-restarted', 'node-down']);
    expect(orphaned.sort()).toEqual([...theirs].sort());
    const { rows } = await db.pool.query(`SELECT 1 FROM events WHERE type = 'NodeDown' AND payload->>'incarnation' = $1`, [incarnation]);
    expect(rows).toHaveLength(1);
  });

  it('whole-cluster restart: every unfinished query is taken over once and spread over the nodes', async () => {
    // A node runs its four side by side (shared warehouse connections): they must outlast the
    // other nodes' starts, or the first node up claims the rest when its four end.
    const handles = await twelveRunning(300, 12);
    const before = await Promise.all(cluster.nodes.map(async (n) => (await (await fetch(`${n.url}/health`)).json()).incarnation as string));
    await Promise.all(cluster.nodes.map((n) => n.sigkill()));
    await Promise.all(['L1', 'L2', 'L3'].map((id) => cluster.restart(id)));

    await allSucceeded(handles);
    const secondOn = new Set<string>();
    for (const [k, handle] of handles.entries()) {
      const events = await eventsOf(handle);
      expect(firstInvalidStep(events.map((e) => e.type))).toBeUndefined();
      expect(events.filter((e) => e.type === 'QueryAttemptOrphaned')).toHaveLength(1);
      expect(before).toContain(events.find((e) => e.type === 'QueryAttemptOrphaned')?.payload.incarnation);
      const launches = events.filter((e) => e.type === 'QueryLaunched');
      expect(launches.map((e) => e.payload.attempt)).toEqual([1, 2]);
      secondOn.add(String(launches[1].payload.executorNodeId));
      expect(Number(await valueOf(handle))).toBe(300 + k);
    }
    // Four slots a node and twelve queries: the normal claim spreads them over all three.
    expect([...secondOn].sort()).toEqual(['L1', 'L2', 'L3']);
  });

  it('what a dead attempt left is cleaned: its statement is stopped in the warehouse, its half-written file removed', async () => {
    const handle = await submitPersisted('SELECT 77 AS k, pg_sleep(20)');
    const on = await waitFor('the persisted query to run', async () => (await runningOn([handle])).get(handle));
    const victim = cluster.node(on);
    const incarnation = (await (await fetch(`${victim.url}/health`)).json()).incarnation as string;
    const tag = `quarry ${incarnation.replace(/-/g, '').slice(0, 12)} %`;
    // The incarnation's backends running pg_sleep (its idle shared connections aside).
    const sleepers = async () =>
      (await warehouse.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE $1 AND wait_event = 'PgSleep'`, [tag])).rows[0].n;
    await waitFor('the statement to sleep in the warehouse', async () => (await sleepers()) === 1);
    await victim.sigkill();
    // PostgreSQL does not notice a dead client during pg_sleep: only the takeover stops it, long before its 20 s.
    await waitFor('the dead attempt\'s statement to be stopped', async () => (await sleepers()) === 0, { timeoutMs: 15_000 });
    await waitFor('attempt 2 to run', async () => (await eventsOf(handle)).some((e) => e.type === 'QueryLaunched' && e.payload.attempt === 2));
    await cluster.restart(on);
    await allSucceeded([handle]);
    const succeeded = (await eventsOf(handle)).find((e) => e.type === 'QuerySucceeded');
    expect(succeeded.payload).toMatchObject({ attempt: 2, persisted: { path: `${handle}.a2.csv` } });
    const files = readdirSync(resultDir).filter((f) => f.includes(handle));
    expect(files.sort()).toEqual([`${handle}.a2.csv`, `${handle}.a2.rowbatches`]);
  });
});
