import { LensClient, waitFor, type Cluster, type OpenedSession, type TestDatabase } from '@quarry/testing';
import { firstInvalidStep } from '../domain/query-status';
import { firstColumn, queryEvents, queryStatus, startQueryCluster, submitQuery, TERMINAL_EVENTS, type QueryCluster } from './query-api';

/**
 * SIGTERM drains: running queries get QUARRY_DRAIN_GRACE_MS, then are handed over (a new attempt
 * elsewhere); in-memory results move to the result store; then NodeLeft. Nothing is lost.
 */
describe('drain: a node stopped with SIGTERM hands its work over and its results stay readable', () => {
  let running: QueryCluster;
  let db: TestDatabase;
  let cluster: Cluster;
  let lens: LensClient;
  let session: OpenedSession;

  const submitOn = (client: LensClient, query: string) => submitQuery(client, session, query);
  const statusOf = (handle: string) => queryStatus(lens, session, handle);
  const valuesOf = (handle: string) => firstColumn(lens, session, handle);
  const eventsOf = (handle: string) => queryEvents(db.pool, handle);

  beforeAll(async () => {
    running = await startQueryCluster({ QUARRY_MAX_RUNNING_QUERIES: '4', QUARRY_DRAIN_GRACE_MS: '1000' });
    ({ db, cluster, lens, session } = running);
  });

  afterAll(() => running?.stop());

  it('hands running queries over, moves in-memory results to the store, then leaves; every query and result survives', async () => {
    const l1 = new LensClient(cluster.node('L1').url);
    // Submitted on L1 itself, so L1 runs them (a free slot and nobody waiting launches locally).
    const quick = [await submitOn(l1, 'SELECT 7 AS k'), await submitOn(l1, 'SELECT k FROM generate_series(1, 3) k')];
    await waitFor('the quick ones to succeed, held by L1', async () => (await Promise.all(quick.map(statusOf))).every((s) => s.status === 'SUCCESSFUL'));
    const slow = [await submitOn(l1, 'SELECT 11 AS k, pg_sleep(4)'), await submitOn(l1, 'SELECT 12 AS k, pg_sleep(4)')];
    await waitFor('the slow ones to run on L1', async () => (await Promise.all(slow.map(statusOf))).every((s) => s.status === 'RUNNING'));
    for (const handle of [...quick, ...slow]) expect((await eventsOf(handle)).find((e) => e.type === 'QueryLaunched')?.payload.executorNodeId).toBe('L1');
    const l1Incarnation = (await (await fetch(`${cluster.node('L1').url}/health`)).json()).incarnation as string;
    await waitFor('the cluster view to show the results L1 holds', async () => {
      const { nodes } = (await (await fetch(`${cluster.node('L2').url}/cluster/nodes`)).json()) as { nodes: { incarnation: string; heldResults: { count: number; bytes: number } }[] };
      const held = nodes.find((n) => n.incarnation === l1Incarnation)?.heldResults;
      return held?.count === 2 && held.bytes > 0;
    });

    const stopped = cluster.node('L1');
    await stopped.stop();
    expect(await stopped.process.exited).toEqual({ code: 0, signal: null });

    // The held results moved to the store before L1 left, and read the same from the others.
    expect(await valuesOf(quick[0])).toEqual([7]);
    expect(await valuesOf(quick[1])).toEqual([1, 2, 3]);
    for (const handle of quick) expect((await eventsOf(handle)).map((e) => e.type)).toContain('ResultPersisted');

    // The slow ones were handed over (grace 1 s < 4 s of sleep) and ran again elsewhere, once.
    await waitFor('the handed-over queries to succeed', async () => (await Promise.all(slow.map(statusOf))).every((s) => s.status === 'SUCCESSFUL'), { timeoutMs: 30_000 });
    for (const [i, handle] of slow.entries()) {
      const events = await eventsOf(handle);
      expect(firstInvalidStep(events.map((e) => e.type))).toBeUndefined();
      expect(events.find((e) => e.type === 'QueryAttemptOrphaned')?.payload).toMatchObject({ attempt: 1, nodeId: 'L1', reason: 'drain' });
      const launches = events.filter((e) => e.type === 'QueryLaunched');
      expect(launches.map((e) => e.payload.attempt)).toEqual([1, 2]);
      expect(launches[1].payload.executorNodeId).not.toBe('L1');
      expect(events.filter((e) => TERMINAL_EVENTS.includes(e.type)).map((e) => e.type)).toEqual(['QuerySucceeded']);
      expect(await valuesOf(handle)).toEqual([11 + i]);
    }
    // L1 said goodbye, and was never declared down.
    const { rows } = await db.pool.query<{ type: string }>(`SELECT type FROM events WHERE stream_id = 'node-L1' ORDER BY stream_version`);
    expect(rows.map((r) => r.type)).toEqual(['NodeJoined', 'NodeLeft']);
  });
});
