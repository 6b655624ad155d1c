import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMigrations } from '@quarry/eventstore';
import { ALL_MIGRATIONS } from '@quarry/node-runtime';
import { rowBatchPlaceOf } from '@quarry/contracts';
import { QuarryGrpcClient } from '@quarry/testing';
import { startCluster } from './lib/cluster';
import type { BaselineRef, BenchContext, BenchRow } from './lib/context';
import { countNewlines, type KeepAliveClient } from './lib/http-client';
import { awaitSuccess, httpResultSetRequest, inlineResultFrom, lensConf, openSession, queryHandleFrom, rowsQuery, submitQueryRequest, type OpenedSession } from './lib/lens-api';
import { summarize } from './lib/stats';

/**
 * quarry.v1 beside the Lens REST API in the same run, both asked of the same node (L2) directly,
 * so only the protocol differs (three real nodes, the balancer unused):
 *
 * 1. A 1,000,000-row persisted result, read four ways in turn:
 *    - REST GET httpresultset (the baseline): the CSV file, lines counted, never parsed;
 *    - gRPC FetchResult, counted (the goal row): the server's batches (encoded once, when the
 *      result was persisted), each batch's row_count read from its bytes and its values skipped, as
 *      the baseline counts lines without parsing them; the last batch decoded whole for its last id;
 *    - gRPC FetchResult, decoded: the same stream, every value decoded by grpc-js and proto-loader;
 *    - gRPC FetchResult of 10,000-row batches, counted: a size named by the client, so the server
 *      parses the CSV into typed batches, as it does for a result persisted by an older build.
 *    Every read checks the row count and the last row's id.
 * 2. SELECT 1: gRPC Submit then Watch until SUCCESSFUL, against REST EXECUTE_WITH_TIMEOUT (the
 *    one REST request that answers once the query is done), alternately, one at a time.
 */

export const timeoutMs = 240_000;

const NAME = 'grpc';
const QUERY_DEADLINE_MS = 120_000;
const TRANSFER_IDLE_MS = 30_000;
/** The goal of issue 12: FetchResult at least as fast as the download. */
const FETCH_GOAL = 1.0;

interface Settings {
  rows: number;
  fetchRepeats: number;
  latencySamples: number;
}

const settings = (quick: boolean): Settings => (quick ? { rows: 1_000_000, fetchRepeats: 2, latencySamples: 30 } : { rows: 1_000_000, fetchRepeats: 4, latencySamples: 150 });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? Number.NaN : sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
const perSecond = (rows: number, ms: number) => (rows / ms) * 1000;
const fmt = (rate: number) => `${Math.round(rate).toLocaleString('en-US')} rows/s`;

interface GrpcSession {
  publicId: string;
  secretId: string;
}

/** GET httpresultset of the result, lines counted as they stream. */
async function restDownload(client: KeepAliveClient, session: OpenedSession, handle: string, rows: number): Promise<number> {
  let lines = 0;
  const answer = await client.stream({ ...httpResultSetRequest(session, handle), timeoutMs: TRANSFER_IDLE_MS }, (chunk) => (lines += countNewlines(chunk)));
  if (answer.status !== 200 || lines !== rows) throw new Error(`httpresultset of ${handle}: HTTP ${answer.status}, ${lines} lines for ${rows} rows`);
  return answer.ms;
}

interface DecodedBatch {
  rowCount: number;
  values: { ints: number[] }[];
}

type Read = 'rest' | 'counted' | 'decoded' | 'parsed';
/** Read in rotating rounds; the CSV-parsed reads come after them all (see the loop). */
const ROUND_READS: Read[] = ['rest', 'counted', 'decoded'];
const READ_NAMES: Record<Read, string> = {
  rest: 'REST httpresultset',
  counted: 'gRPC FetchResult counted',
  decoded: 'gRPC FetchResult decoded',
  parsed: 'gRPC FetchResult 10k batches (CSV parsed) counted',
};

/**
 * FetchResult of the result, `decoded` by grpc-js and proto-loader batch by batch, or `counted`:
 * each batch's row_count read from its bytes (rowBatchPlaceOf) and only the last batch decoded.
 * Either way the row count and the last id are checked.
 */
async function grpcFetch(grpc: QuarryGrpcClient, session: GrpcSession, handle: string, rows: number, how: 'counted' | 'decoded', batchSize = 0): Promise<number> {
  const request = { session, queryHandle: handle, batchSize };
  const t0 = performance.now();
  let fetched = 0;
  let lastId = 0;
  if (how === 'decoded') {
    for await (const batch of grpc.stream<DecodedBatch>('QueryService', 'FetchResult', request)) {
      fetched += batch.rowCount;
      lastId = batch.values[0]?.ints.at(-1) ?? lastId;
    }
  } else {
    let last: Buffer | undefined;
    for await (const bytes of grpc.rawStream('QueryService', 'FetchResult', request)) {
      if (!last) firstBatchMs.push(performance.now() - t0);
      fetched += rowBatchPlaceOf(bytes).rowCount;
      last = bytes;
    }
    if (last) lastId = grpc.decode<DecodedBatch>('QueryService', 'FetchResult', last).values[0]?.ints.at(-1) ?? 0;
  }
  const ms = performance.now() - t0;
  if (fetched !== rows || lastId !== rows) throw new Error(`FetchResult (${how}) of ${handle}: ${fetched} rows ending with id ${lastId}, expected ${rows}`);
  return ms;
}

/** Call → first batch of each counted read, for the log: how much of a read is its start. */
const firstBatchMs: number[] = [];

/** Batch size a client names so that the server parses the CSV rather than sending the encoded batches. */
const PARSED_BATCH_ROWS = 10_000;

/** Submit, then Watch until settled: SUCCESSFUL or the bench fails. */
async function grpcSubmitWatch(grpc: QuarryGrpcClient, session: GrpcSession): Promise<number> {
  const t0 = performance.now();
  const { queryHandle } = await grpc.call<{ queryHandle: string }>('QueryService', 'Submit', { session, query: 'SELECT 1' });
  let last = '';
  for await (const status of grpc.stream<{ status: string; errorMessage: string }>('QueryService', 'Watch', { session, queryHandle })) last = status.status;
  const ms = performance.now() - t0;
  if (last !== 'SUCCESSFUL') throw new Error(`gRPC SELECT 1 (${queryHandle}) ended ${last}`);
  return ms;
}

async function restExecuteWithTimeout(client: KeepAliveClient, session: OpenedSession): Promise<number> {
  const answer = await client.request(submitQueryRequest(session, 'SELECT 1', 'EXECUTE_WITH_TIMEOUT', { timeoutmillis: '30000' }));
  const result = inlineResultFrom(answer);
  if (result.status !== 'SUCCESSFUL') throw new Error(`REST SELECT 1 ended ${result.status}: ${result.errorMessage ?? ''}`);
  return answer.ms;
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const s = settings(ctx.quick);
  ctx.log('migrating the bench database, creating a warehouse database and a result folder');
  await runMigrations(ctx.databaseUrl, ALL_MIGRATIONS);
  const warehouse = await ctx.createDatabase('wh');
  const resultDir = mkdtempSync(join(tmpdir(), 'quarry-bench-results-'));
  ctx.defer(() => rmSync(resultDir, { recursive: true, force: true }));
  const duckdbDir = mkdtempSync(join(tmpdir(), 'quarry-bench-duck-'));
  ctx.defer(() => rmSync(duckdbDir, { recursive: true, force: true }));
  const env = { QUARRY_PG_WAREHOUSE_URL: warehouse.readerUrl, QUARRY_DUCKDB_WAREHOUSE: duckdbDir, QUARRY_RESULT_DIR: resultDir, QUARRY_MAX_SESSIONS_PER_USER: '100000' };
  ctx.log('starting nodes L1, L2, L3 and the balancer');
  const cluster = await startCluster(ctx, { partitions: 3, env, balancerSockets: 1 });
  const node = cluster.nodes[1];
  const rest = cluster.direct[1];
  const grpc = new QuarryGrpcClient(node.grpcAddress);
  ctx.defer(() => grpc.close());

  const user = 'bench-grpc';
  const restSession = await openSession(rest, user);
  const { session } = await grpc.call<{ session: GrpcSession }>('SessionService', 'Open', { user, password: '' });

  // Part 1: one persisted result, read four ways from the same node.
  ctx.log(`${s.rows.toLocaleString('en-US')}-row persisted result from ${node.nodeId}: a warm-up of each read, then ${s.fetchRepeats} rounds of (${ROUND_READS.map((r) => READ_NAMES[r]).join(', ')}), the order rotating, then ${s.fetchRepeats} × ${READ_NAMES.parsed}`);
  const conf = lensConf({ 'lens.query.enable.persistent.resultset': 'true', 'lens.query.output.write.header': 'false', 'lens.query.driver': 'pg' });
  const submitted = performance.now();
  const handle = queryHandleFrom(await rest.request(submitQueryRequest(restSession, rowsQuery(s.rows), 'EXECUTE', { conf })));
  await awaitSuccess(rest, restSession, handle, { intervalMs: 20, deadlineMs: QUERY_DEADLINE_MS, signal: ctx.signal });
  const persistMs = performance.now() - submitted;
  ctx.log(`  the query, persisted (CSV and row batches): ${persistMs.toFixed(0)} ms from submit to SUCCESSFUL`);
  const read = (which: Read) => {
    switch (which) {
      case 'rest':
        return restDownload(rest, restSession, handle, s.rows);
      case 'parsed':
        return grpcFetch(grpc, session, handle, s.rows, 'counted', PARSED_BATCH_ROWS);
      default:
        return grpcFetch(grpc, session, handle, s.rows, which);
    }
  };
  for (const which of ROUND_READS) await read(which);
  const ms: Record<Read, number[]> = { rest: [], counted: [], decoded: [], parsed: [] };
  /** CPU ms of the node and of the bench process (the client) per run, by read: where the time goes. */
  const cpu: Record<Read, { node: number; client: number }[]> = { rest: [], counted: [], decoded: [], parsed: [] };
  const measured = async (which: Read) => {
    const [node0, client0] = [node.cpuMs() ?? Number.NaN, process.cpuUsage()];
    const took = await read(which);
    const client1 = process.cpuUsage(client0);
    const used = { node: (node.cpuMs() ?? Number.NaN) - node0, client: (client1.user + client1.system) / 1000 };
    cpu[which].push(used);
    ms[which].push(took);
    const first = which === 'counted' || which === 'parsed' ? `, first batch after ${firstBatchMs.at(-1)?.toFixed(0)} ms` : '';
    ctx.log(`  ${READ_NAMES[which]}: ${took.toFixed(0)} ms, ${fmt(perSecond(s.rows, took))}${first}; CPU: node ${used.node.toFixed(0)} ms, client ${used.client.toFixed(0)} ms`);
  };
  for (let i = 0; i < s.fetchRepeats; i++) {
    cluster.alive();
    for (let k = 0; k < ROUND_READS.length; k++) await measured(ROUND_READS[(i + k) % ROUND_READS.length]);
  }
  // The CSV-parsed reads last: each leaves the node ~1 s of CPU's worth of garbage, whose
  // collection would otherwise land in whichever read came next.
  for (let i = 0; i < s.fetchRepeats; i++) await measured('parsed');

  // Part 2: SELECT 1, one at a time, alternately.
  ctx.log(`SELECT 1 on ${node.nodeId}: ${s.latencySamples} × (gRPC Submit + Watch, REST EXECUTE_WITH_TIMEOUT) alternately, after 10 warm-ups of each`);
  for (let i = 0; i < 10; i++) {
    await grpcSubmitWatch(grpc, session);
    await restExecuteWithTimeout(rest, restSession);
  }
  const grpcLatency: number[] = [];
  const restLatency: number[] = [];
  for (let i = 0; i < s.latencySamples; i++) {
    ctx.signal.throwIfAborted();
    if (i % 2 === 0) {
      grpcLatency.push(await grpcSubmitWatch(grpc, session));
      restLatency.push(await restExecuteWithTimeout(rest, restSession));
    } else {
      restLatency.push(await restExecuteWithTimeout(rest, restSession));
      grpcLatency.push(await grpcSubmitWatch(grpc, session));
    }
  }
  cluster.alive();
  const g = summarize(grpcLatency);
  const r = summarize(restLatency);
  ctx.log(`  gRPC Submit + Watch p50 ${g.p50.toFixed(2)} ms, p99 ${g.p99.toFixed(2)} ms; REST EXECUTE_WITH_TIMEOUT p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`);

  const ref = (name: string, metric: string, value: number, unit: string): BaselineRef => ({ name, metric, value, unit });
  const rate = (which: Read) => median(ms[which].map((took) => perSecond(s.rows, took)));
  const download = ref(`baseline: REST httpresultset 1M rows from ${node.nodeId}`, 'request → last byte', rate('rest'), 'rows/s');
  const restP50 = ref(`baseline: REST EXECUTE_WITH_TIMEOUT SELECT 1 on ${node.nodeId}`, 'p50', r.p50, 'ms');
  const fetchRow = (which: Read, metric: string): BenchRow => ({
    name: NAME,
    metric,
    value: rate(which),
    unit: 'rows/s',
    baseline: download,
    detail: { ms: ms[which], downloadMs: ms.rest, cpuMs: { [which]: cpu[which], rest: cpu.rest } },
  });
  return [
    {
      ...fetchRow('counted', `FetchResult 1M rows from ${node.nodeId}, counted, call → last batch (goal ≥ ${FETCH_GOAL.toFixed(1)}x REST download)`),
      detail: { goal: `gRPC FetchResult rows/s ≥ ${FETCH_GOAL}x REST httpresultset rows/s`, ms, cpuMs: cpu, persistMs, query: rowsQuery(s.rows), handle },
    },
    fetchRow('decoded', `FetchResult 1M rows from ${node.nodeId}, every value decoded (grpc-js + proto-loader)`),
    fetchRow('parsed', `FetchResult 1M rows from ${node.nodeId}, batchSize 10000: CSV parsed by the node, counted`),
    { ...download, detail: { downloadMs: ms.rest } },
    {
      name: NAME,
      metric: `SELECT 1 gRPC Submit + Watch until SUCCESSFUL on ${node.nodeId}, p50`,
      value: g.p50,
      unit: 'ms',
      baseline: restP50,
      detail: { grpc: g, rest: r, samples: s.latencySamples },
    },
    { ...restP50, detail: { rest: r } },
  ];
}
