import { createReadStream, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { encodedRowBatches, type EncodedRowBatch } from '@quarry/result';
import { collect, failureOf, listServicesByReflection, QuarryGrpcClient, waitFor, type Cluster, type TestDatabase } from '@quarry/testing';
import { executorOf, startResultCluster, type ResultCluster } from '../../../result/src/e2e/result-api';

/** Resident memory of a process, from /proc (kB -> bytes). */
function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.replace(/\D/g, '')) * 1024;
}

interface Handle {
  publicId: string;
  secretId: string;
}
interface ColumnValues {
  nulls: boolean[];
  bools: boolean[];
  ints: number[];
  doubles: number[];
  strings: string[];
}
interface RowBatch {
  columns: { name: string; type: string }[];
  fromIndex: number;
  rowCount: number;
  values: ColumnValues[];
}
interface QueryStatus {
  status: string;
  resultAvailable: boolean;
  errorMessage: string;
}

const SETTLED = ['SUCCESSFUL', 'FAILED', 'CANCELED', 'CLOSED'];

async function encodedBatchesIn(path: string): Promise<EncodedRowBatch[]> {
  const batches: EncodedRowBatch[] = [];
  for await (const batch of encodedRowBatches(createReadStream(path))) batches.push(batch);
  return batches;
}

describe('gRPC quarry.v1 across a three-node cluster', () => {
  let results: ResultCluster;
  let cluster: Cluster;
  let db: TestDatabase;
  const grpc: Record<string, QuarryGrpcClient> = {};

  beforeAll(async () => {
    // Results of 100,000 wide rows stay in memory. L3 runs the gateway alone: it serves all of
    // quarry.v1 through the access modules, runs no query and holds no result, so it always asks a holder.
    results = await startResultCluster({
      env: { QUARRY_RESULT_MEMORY_MAX_BYTES: String(512 * 1024 * 1024) },
      nodeTargets: { L3: 'gateway' },
      // L3 has less heap than the 100 MB result it streams: gathering it would end the process.
      nodeEnv: async (nodeId) => (nodeId === 'L3' ? { NODE_OPTIONS: '--max-old-space-size=96' } : {}),
    });
    ({ cluster, db } = results);
    for (const node of cluster.nodes) grpc[node.options.nodeId] = new QuarryGrpcClient(node.grpcAddress!);
  });

  afterAll(async () => {
    for (const client of Object.values(grpc)) client.close();
    await results?.stop();
  });

  const open = async (on: string, user: string) => (await grpc[on].call<{ session: Handle }>('SessionService', 'Open', { user, password: '' })).session;
  const submit = async (on: string, session: Handle, query: string, conf: Record<string, string> = {}) =>
    (await grpc[on].call<{ queryHandle: string }>('QueryService', 'Submit', { session, query, conf })).queryHandle;
  const watch = (on: string, session: Handle, queryHandle: string) => collect<QueryStatus>(grpc[on].stream('QueryService', 'Watch', { session, queryHandle }));

  it('lists the quarry.v1 services through server reflection', async () => {
    const services = await listServicesByReflection(cluster.node('L2').grpcAddress!);
    expect(services).toEqual(expect.arrayContaining(['quarry.v1.SessionService', 'quarry.v1.QueryService', 'quarry.v1.ClusterService']));
  });

  it('round trips across nodes: open on L1, params on L2 and L3, submit on L2, Watch on L3 until SUCCESSFUL, rows from any node, a retried submit', async () => {
    const session = await open('L1', 'ana');
    await grpc.L2.call('SessionService', 'SetParam', { session, key: 'lens.query.output.write.header', value: 'true' });
    const params = await grpc.L3.call<{ params: { key: string; value: string }[] }>('SessionService', 'GetParams', { session, key: 'lens.query.output.write.header' });
    expect(params.params).toEqual([{ key: 'lens.query.output.write.header', value: 'true' }]);
    expect(await grpc.L3.call('SessionService', 'ListResources', { session })).toEqual({ resources: [] });

    const handle = await submit('L2', session, `SELECT g AS id, 'row ' || g AS label, g * 0.5::float8 AS half, g % 2 = 0 AS even, CASE WHEN g = 2 THEN NULL ELSE g END AS maybe FROM generate_series(1, 5) g`);
    const statuses = await watch('L3', session, handle);
    expect(statuses.at(-1)).toMatchObject({ status: 'SUCCESSFUL', resultAvailable: true });
    // Every status Watch sent differs from the one before it.
    for (let i = 1; i < statuses.length; i++) expect(statuses[i].status).not.toBe(statuses[i - 1].status);

    const query = await grpc.L1.call<{ queryHandle: string; user: string; status: QueryStatus }>('QueryService', 'Get', { session, queryHandle: handle });
    expect(query).toMatchObject({ queryHandle: handle, user: 'ana', status: { status: 'SUCCESSFUL' } });
    const listed = await grpc.L3.call<{ queryHandles: string[] }>('QueryService', 'List', { session, states: ['successful'] });
    expect(listed.queryHandles).toContain(handle);

    for (const on of ['L1', 'L2', 'L3']) {
      const batches = await collect<RowBatch>(grpc[on].stream('QueryService', 'FetchResult', { session, queryHandle: handle }));
      expect(batches).toHaveLength(1);
      const [batch] = batches;
      expect(batch.columns.map((c) => c.name)).toEqual(['id', 'label', 'half', 'even', 'maybe']);
      expect(batch.rowCount).toBe(5);
      expect(batch.values[0].ints).toEqual([1, 2, 3, 4, 5]);
      expect(batch.values[1].strings).toEqual(['row 1', 'row 2', 'row 3', 'row 4', 'row 5']);
      expect(batch.values[2].doubles).toEqual([0.5, 1, 1.5, 2, 2.5]);
      expect(batch.values[3].bools).toEqual([false, true, false, true, false]);
      expect(batch.values[4].nulls).toEqual([false, true, false, false, false]);
      expect(batch.values[4].ints).toEqual([1, 0, 3, 4, 5]);
    }
    // A retried Submit with the same request id, on any node, is the first query.
    const first = await grpc.L1.call<{ queryHandle: string }>('QueryService', 'Submit', { session, query: 'SELECT 2', requestId: 'retry-me' });
    const again = await grpc.L3.call<{ queryHandle: string }>('QueryService', 'Submit', { session, query: 'SELECT 2', requestId: 'retry-me' });
    expect(again.queryHandle).toBe(first.queryHandle);

    const nodes = await grpc.L2.call<{ nodes: { nodeId: string; state: string }[] }>('ClusterService', 'Nodes', {});
    expect(nodes.nodes.filter((n) => n.state === 'UP').map((n) => n.nodeId).sort()).toEqual(['L1', 'L2', 'L3']);
    await grpc.L3.call('SessionService', 'Close', { session });
  });

  it('streams a 100,000-row in-memory result from a node that does not hold it, in batches, its memory flat', async () => {
    const session = await open('L2', 'bob');
    const handle = await submit('L1', session, `SELECT g AS id, repeat('x', 1000) || g AS label FROM generate_series(1, 100000) g`);
    expect((await watch('L2', session, handle)).at(-1)?.status).toBe('SUCCESSFUL');
    const holder = await executorOf(db.pool, handle);
    expect(['L1', 'L2']).toContain(holder);

    const server = cluster.node('L3');
    const before = rssOf(server.process.pid!);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(server.process.pid!))), 20);
    let rows = 0;
    let sum = 0;
    let batches = 0;
    let expectedFrom = 0;
    try {
      for await (const batch of grpc.L3.stream<RowBatch>('QueryService', 'FetchResult', { session, queryHandle: handle, batchSize: 5000 })) {
        expect(batch.fromIndex).toBe(expectedFrom);
        expect(batch.values[0].ints).toHaveLength(batch.rowCount);
        for (const id of batch.values[0].ints) sum += id;
        expect(batch.values[1].strings[0]).toBe(`${'x'.repeat(1000)}${expectedFrom + 1}`);
        expectedFrom += batch.rowCount;
        rows += batch.rowCount;
        batches++;
      }
    } finally {
      clearInterval(sampler);
    }
    expect(rows).toBe(100_000);
    expect(sum).toBe((100_000 * 100_001) / 2);
    expect(batches).toBe(20);
    // The result is ~100 MB of text. L3's heap is capped below that (--max-old-space-size=96): had
    // it gathered the rows before sending them it would have died; its RSS stays below the result's size.
    expect(server.process.running).toBe(true);
    expect(peak - before).toBeLessThan(96 * 1024 * 1024);
  });

  it('streams a persisted 100,000-row result from any node as the batches encoded when it was written, and from an index', async () => {
    const session = await open('L3', 'cy');
    const handle = await submit('L3', session, `SELECT g AS id, g::text AS label FROM generate_series(1, 100000) g`, {
      'lens.query.enable.persistent.resultset': 'true',
      'lens.query.output.write.header': 'true',
    });
    expect((await watch('L1', session, handle)).at(-1)?.status).toBe('SUCCESSFUL');
    // The row batches lie beside the CSV; FetchResult without a batch size sends exactly those.
    const file = await encodedBatchesIn(join(results.resultDir, `${handle}.rowbatches`));
    expect(file.length).toBeGreaterThan(1);
    expect(file.reduce((sum, b) => sum + b.rowCount, 0)).toBe(100_000);
    const sent = await collect<RowBatch>(grpc.L2.stream('QueryService', 'FetchResult', { session, queryHandle: handle }));
    expect(sent.map((b) => [b.fromIndex, b.rowCount])).toEqual(file.map((b) => [b.fromIndex, b.rowCount]));
    expect(sent.map((b) => b.columns.map((c) => c.name))).toEqual([['id', 'label'], ...file.slice(1).map(() => [])]);
    expect(sent.flatMap((b) => b.values[0].ints)).toEqual(Array.from({ length: 100_000 }, (_, i) => i + 1));
    expect(sent.flatMap((b) => b.values[1].strings).at(-1)).toBe('100000');
    // The same rows as the CSV parsed in batches the client sized.
    const parsed = await collect<RowBatch>(grpc.L1.stream('QueryService', 'FetchResult', { session, queryHandle: handle, batchSize: 7000 }));
    expect(parsed[0].columns.map((c) => c.name)).toEqual(['id', 'label']);
    expect(parsed.flatMap((b) => b.values[1].strings)).toEqual(sent.flatMap((b) => b.values[1].strings));
    // From a batch's first row: that batch on, the columns in front; from inside one: its rest, then the others.
    const boundary = file[1].fromIndex;
    const fromBoundary = await collect<RowBatch>(grpc.L3.stream('QueryService', 'FetchResult', { session, queryHandle: handle, fromIndex: boundary }));
    expect(fromBoundary.map((b) => [b.fromIndex, b.rowCount, b.columns.length])).toEqual(file.slice(1).map((b, i) => [b.fromIndex, b.rowCount, i === 0 ? 2 : 0]));
    const inside = await collect<RowBatch>(grpc.L3.stream('QueryService', 'FetchResult', { session, queryHandle: handle, fromIndex: boundary - 2 }));
    expect(inside.map((b) => b.fromIndex)).toEqual([boundary - 2, ...file.slice(1).map((b) => b.fromIndex)]);
    expect(inside[0].values[1].strings).toEqual([String(boundary - 1), String(boundary)]);
    const tail = await collect<RowBatch>(grpc.L1.stream('QueryService', 'FetchResult', { session, queryHandle: handle, fromIndex: 99_998 }));
    expect(tail.flatMap((b) => b.values[1].strings)).toEqual(['99999', '100000']);
    const past = await collect<RowBatch>(grpc.L2.stream('QueryService', 'FetchResult', { session, queryHandle: handle, fromIndex: 200_000 }));
    expect(past.map((b) => [b.rowCount, b.columns.length])).toEqual([[0, 2]]);
  });

  it('streams a persisted result written by an older build, without row batches, from its CSV', async () => {
    const session = await open('L1', 'cyd');
    const handle = await submit('L1', session, `SELECT g AS id, 'row ' || g AS label, g % 3 = 0 AS third FROM generate_series(1, 30000) g`, {
      'lens.query.enable.persistent.resultset': 'true',
    });
    expect((await watch('L1', session, handle)).at(-1)?.status).toBe('SUCCESSFUL');
    // What an older build recorded: no rowBatches, and no file beside the CSV. L3 has not read this query yet.
    await db.pool.query(`UPDATE events SET payload = payload #- '{persisted,rowBatches}' WHERE stream_id = $1 AND type = 'QuerySucceeded'`, [`query-${handle}`]);
    rmSync(join(results.resultDir, `${handle}.rowbatches`));
    const batches = await collect<RowBatch>(grpc.L3.stream('QueryService', 'FetchResult', { session, queryHandle: handle }));
    expect(batches[0].columns.map((c) => c.name)).toEqual(['id', 'label', 'third']);
    expect(batches.flatMap((b) => b.values[0].ints)).toEqual(Array.from({ length: 30_000 }, (_, i) => i + 1));
    expect(batches.flatMap((b) => b.values[2].bools).filter(Boolean)).toHaveLength(10_000);
    expect(batches.flatMap((b) => b.values[1].strings).at(-1)).toBe('row 30000');
  });

  it('cancels a pg_sleep through another node; Watch on a third sees CANCELED', async () => {
    const session = await open('L1', 'dee');
    const handle = await submit('L1', session, 'SELECT pg_sleep(30)');
    const watched = watch('L3', session, handle);
    await waitFor('RUNNING', async () => (await grpc.L2.call<{ status: QueryStatus }>('QueryService', 'Get', { session, queryHandle: handle })).status.status === 'RUNNING', { timeoutMs: 20_000 });
    await grpc.L2.call('QueryService', 'Cancel', { session, queryHandle: handle });
    const statuses = await watched;
    expect(statuses.at(-1)?.status).toBe('CANCELED');
    expect(statuses.map((s) => s.status)).toContain('RUNNING');
  });

  it('answers bad calls with a gRPC status and the Lens code in the trailing metadata', async () => {
    const session = await open('L1', 'eve');
    const other = await open('L2', 'fay');
    const mine = await submit('L1', session, 'SELECT 1');
    const cases: [string, Promise<unknown>, number, number][] = [
      ['no session', grpc.L1.call('QueryService', 'Submit', { query: 'SELECT 1' }), status.UNAUTHENTICATED, 2001],
      ['a wrong secret', grpc.L2.call('SessionService', 'GetParams', { session: { ...session, secretId: other.secretId } }), status.UNAUTHENTICATED, 2005],
      ['a session id that is no UUID', grpc.L3.call('SessionService', 'GetParams', { session: { publicId: 'x', secretId: 'y' } }), status.INVALID_ARGUMENT, 1006],
      ['an empty query', grpc.L1.call('QueryService', 'Submit', { session, query: '  ' }), status.INVALID_ARGUMENT, 2002],
      ['SQL the engine refuses', grpc.L2.call('QueryService', 'Submit', { session, query: 'SELEC nothing' }), status.INVALID_ARGUMENT, 1006],
      ['not a query handle', grpc.L3.call('QueryService', 'Get', { session, queryHandle: 'nope' }), status.INVALID_ARGUMENT, 1006],
      ['someone else\'s query', grpc.L3.call('QueryService', 'Get', { session: other, queryHandle: mine }), status.NOT_FOUND, 1003],
      ['an unknown parameter', grpc.L1.call('SessionService', 'GetParams', { session, key: 'no.such.key' }), status.NOT_FOUND, 1003],
      ['an unknown state', grpc.L2.call('QueryService', 'List', { session, states: ['SLEEPING'] }), status.INVALID_ARGUMENT, 1006],
      ['a bad resource type', grpc.L2.call('SessionService', 'AddResource', { session, resource: { type: 'zip', path: '/tmp/x' } }), status.INVALID_ARGUMENT, 1006],
      ['a bad user', grpc.L3.call('SessionService', 'Open', { user: '', password: '' }), status.INVALID_ARGUMENT, 1005],
    ];
    for (const [what, call, code, lensCode] of cases) {
      const failure = await failureOf(call);
      expect({ what, code: failure.code, lensCode: failure.lensCode }).toEqual({ what, code, lensCode });
      expect(failure.details).not.toMatch(/internal/i);
    }
    // Streams too, and a result that does not exist yet.
    const running = await submit('L1', session, 'SELECT pg_sleep(30)');
    const early = await failureOf(collect(grpc.L2.stream('QueryService', 'FetchResult', { session, queryHandle: running })));
    expect([early.code, early.lensCode]).toEqual([status.INVALID_ARGUMENT, 1006]);
    const stranger = await failureOf(collect(grpc.L3.stream('QueryService', 'Watch', { session: other, queryHandle: running })));
    expect([stranger.code, stranger.lensCode]).toEqual([status.NOT_FOUND, 1003]);
    await grpc.L1.call('QueryService', 'Cancel', { session, queryHandle: running });
    // Every node is still the same process, serving.
    for (const node of cluster.nodes) expect(node.process.running).toBe(true);
    expect(SETTLED).toContain((await watch('L1', session, running)).at(-1)?.status);
  });
});
