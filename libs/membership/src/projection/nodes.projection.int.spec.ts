import { randomUUID } from 'node:crypto';
import { NodeDown, NodeJoined, NodeLeft, streamId } from '@quarry/contracts';
import { EVENT_STORE_MIGRATIONS, PgEventStore, rebuildProjection, runMigrations } from '@quarry/eventstore';
import { createTestDatabase, uniqueTopicPrefix, type TestDatabase } from '@quarry/testing';
import { Nodes1764000000100 } from './1764000000100-nodes';
import { nodesProjection } from './nodes.projection';

/** The `nodes` read model kept by the appends themselves (ADR 12), against real PostgreSQL. */
describe('nodes projection, kept by the append', () => {
  let db: TestDatabase;
  let store: PgEventStore;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: (url) => runMigrations(url, [...EVENT_STORE_MIGRATIONS, Nodes1764000000100]) });
    store = new PgEventStore(db.pool, { nodeId: 'T0', nodeIncarnation: randomUUID() }, uniqueTopicPrefix()).keepInline([nodesProjection]);
  });

  afterAll(() => db.drop());

  const rows = async () =>
    (await db.pool.query<{ node_id: string; incarnation: string; http_url: string; services: string[]; state: string; ended: boolean }>(
      'SELECT node_id, incarnation, http_url, services, state, ended_at IS NOT NULL AS ended FROM nodes ORDER BY joined_at, node_id',
    )).rows;
  const joined = (nodeId: string, incarnation: string) => NodeJoined.create({ nodeId, incarnation, httpUrl: `http://127.0.0.1:7${nodeId.length}00`, services: ['session', 'query'] });
  const down = (nodeId: string, incarnation: string) =>
    NodeDown.create({ nodeId, incarnation, detectedBy: 'T0', lastHeartbeatAt: new Date().toISOString(), cause: 'heartbeat-stopped' });

  it('has a node as soon as its NodeJoined commits, and records its first end only', async () => {
    const incarnation = randomUUID();
    await store.append(streamId('node', 'L1'), 'any', [joined('L1', incarnation)]);
    expect(await rows()).toEqual([{ node_id: 'L1', incarnation, http_url: 'http://127.0.0.1:7200', services: ['session', 'query'], state: 'UP', ended: false }]);

    await store.append(streamId('node', 'L1'), 'any', [NodeLeft.create({ nodeId: 'L1', incarnation })]);
    await store.append(streamId('node', 'L1'), 'any', [down('L1', incarnation)]);
    expect(await rows()).toMatchObject([{ node_id: 'L1', incarnation, state: 'LEFT', ended: true }]);
  });

  it('writes a join and an end appended together as one ended row', async () => {
    const incarnation = randomUUID();
    await store.append(streamId('node', 'L2'), 'any', [joined('L2', incarnation), down('L2', incarnation)]);
    expect((await rows()).find((r) => r.incarnation === incarnation)).toMatchObject({ node_id: 'L2', state: 'DOWN', ended: true });
  });

  it('writes nothing for an append refused by its expected version', async () => {
    const before = await rows();
    await expect(store.append(streamId('node', 'L1'), 1, [joined('L1', randomUUID())])).rejects.toThrow();
    expect(await rows()).toEqual(before);
  });

  it('rebuilds from the event store to the same rows', async () => {
    const before = await rows();
    await rebuildProjection(db.pool, store, nodesProjection);
    expect(await rows()).toEqual(before);
  });
});
