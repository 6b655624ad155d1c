import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMigrations } from '@quarry/eventstore';
import { ALL_MIGRATIONS } from '@quarry/node-runtime';
import { Pool } from 'pg';
import { startCluster, type CpuShares } from './lib/cluster';
import type { BaselineRef, BenchContext, BenchRow } from './lib/context';
import type { HttpRequest, KeepAliveClient, LoadRun } from './lib/http-client';
import {
  FINISHED_STATUSES,
  inlineResultFrom,
  lensQueryFrom,
  openSession,
  queryHandleFrom,
  queryStatusRequest,
  submitQueryRequest,
  type OpenedSession,
} from './lib/lens-api';
import { PG_BASELINE_APPLICATION, pgSelectClient, pgSelectLoad } from './lib/pg-select-baseline';
import { closedLoopOf, sleep, summarize, type LatencySummary } from './lib/stats';
import { brokerPid, scratchPool, stackCpuDuring, type StackParts } from './lib/stack-processes';
import { statementCounts } from './lib/db-statement-counts';
import { ORDERED_NODE_PAIRS } from './lib/node-pairs';

/**
 * The Lens query API on a cluster: three real node processes (L1, L2, L3) with a warehouse
 * database of this bench's own for the pg driver, and tools/stack/balancer.mjs in front of them.
 *
 * 1. One `SELECT 1` end to end: EXECUTE on one node, then GET its status on another node every
 *    ~1 ms until SUCCESSFUL, one query at a time; beside each, the same statement straight to the
 *    warehouse through raw `pg`. The events of the measured queries then tell where the time went.
 * 2. Sustained queries/s through the balancer: closed-loop lanes each doing EXECUTE_WITH_TIMEOUT of
 *    `SELECT 1` (rows inline), against raw `pg` `SELECT 1` with as many connections.
 */

const NAME = 'queries';
const PARTITIONS = 3;
const QUERY = 'SELECT 1';
const POLL_INTERVAL_MS = 1;
const QUERY_DEADLINE_MS = 10_000;
const INLINE_TIMEOUT_MS = 30_000;

interface Settings {
  /** Part 1: sequential queries before the measured ones, then the measured ones. */
  warmup: number;
  samples: number;
  /** Part 2: lanes, sessions they share, the warm-up and the measured run (each of Quarry and pg). */
  concurrency: number;
  sessions: number;
  warmupMs: number;
  runMs: number;
  maxRunningPerNode: number;
  /** How long the idle cluster's CPU is sampled before part 1. */
  idleMs: number;
}

/** The sustained load's first window, on a cold cluster: reported beside the steady state. */
const COLD_WINDOW_MS = 5_000;

function settings(quick: boolean): Settings {
  const chosen = quick
    ? { warmup: 100, samples: 80, concurrency: 32, sessions: 8, warmupMs: 5_000, runMs: 3_000, maxRunningPerNode: 16, idleMs: 1_000 }
    : { warmup: 300, samples: 200, concurrency: 32, sessions: 8, warmupMs: 40_000, runMs: 8_000, maxRunningPerNode: 16, idleMs: 2_000 };
  // For profiling below saturation, where a sampled stack is CPU spent rather than a wait for a core.
  const lanes = Number(process.env.QUARRY_BENCH_QUERIES_LANES ?? chosen.concurrency);
  // For profiling the steady state, past the JIT's first minutes: a longer warm-up under load.
  const warmupMs = Number(process.env.QUARRY_BENCH_QUERIES_WARMUP_MS ?? chosen.warmupMs);
  return { ...chosen, concurrency: lanes, warmupMs };
}

/** Milliseconds since the epoch with a fraction, on the clock the nodes stamp events with. */
const wallClock = () => performance.timeOrigin + performance.now();

interface Sample {
  handle: string;
  pair: string;
  /** Wall clock when the POST was sent, when its answer was in, when SUCCESSFUL was read. */
  sentAt: number;
  submittedAt: number;
  seenAt: number;
  totalMs: number;
  submitMs: number;
  polls: number;
  driver?: string;
}

/** EXECUTE on `submitter`, then GET status on `poller` every ~1 ms until SUCCESSFUL. */
async function endToEnd(ctx: BenchContext, submitter: KeepAliveClient, poller: KeepAliveClient, session: OpenedSession, submit: HttpRequest): Promise<Omit<Sample, 'pair'>> {
  const sentAt = wallClock();
  const t0 = performance.now();
  const answer = await submitter.request(submit);
  const submittedAt = wallClock();
  const handle = queryHandleFrom(answer);
  for (let polls = 1; ; polls++) {
    const status = await poller.request(queryStatusRequest(session, handle));
    const { status: s, selectedDriverName } = lensQueryFrom(status);
    if (s.status === 'SUCCESSFUL') {
      const seenAt = wallClock();
      return { handle, sentAt, submittedAt, seenAt, totalMs: performance.now() - t0, submitMs: answer.ms, polls, driver: selectedDriverName };
    }
    if (FINISHED_STATUSES.includes(s.status)) throw new Error(`query ${handle} (${QUERY}) ended ${s.status}: ${s.errorMessage ?? ''}`);
    if (performance.now() - t0 > QUERY_DEADLINE_MS) throw new Error(`query ${handle} (${QUERY}) is still ${s.status} after ${QUERY_DEADLINE_MS} ms`);
    ctx.signal.throwIfAborted();
    await sleep(POLL_INTERVAL_MS);
  }
}

/** A query whose events are looked up: when the client sent it and when it had SUCCESSFUL in hand. */
interface Timed {
  handle: string;
  sentAt: number;
  seenAt: number;
}

const STAGES = [
  ['sent → QuerySubmitted', 'sent', 'QuerySubmitted'],
  ['QuerySubmitted → QueryLaunched', 'QuerySubmitted', 'QueryLaunched'],
  ['QueryLaunched → QueryRunning', 'QueryLaunched', 'QueryRunning'],
  ['QueryRunning → QueryExecuted', 'QueryRunning', 'QueryExecuted'],
  ['QueryExecuted → QuerySucceeded', 'QueryExecuted', 'QuerySucceeded'],
  ['QuerySucceeded → client has it', 'QuerySucceeded', 'seen'],
] as const;

interface Breakdown {
  /** By stage name (STAGES), over the queries given. */
  stages: Record<string, LatencySummary>;
  /** QueryLaunched per executor node. */
  executors: Record<string, number>;
  /** The event times by query, for the caller's own figures. */
  times: Map<string, Map<string, number>>;
}

/**
 * Where each query's time went, from the `occurred_at` of its events (stamped by the writing node,
 * in whole ms) and the client's wall clock for sending it and for having SUCCESSFUL in hand.
 */
async function stagesOf(databaseUrl: string, queries: Timed[]): Promise<Breakdown> {
  const pool = scratchPool(databaseUrl);
  try {
    const { rows } = await pool.query<{ stream_id: string; type: string; occurred_at: Date; executor: string | null }>(
      `SELECT stream_id, type, occurred_at, payload->>'executorNodeId' AS executor FROM events WHERE stream_id = ANY($1)`,
      [queries.map((q) => `query-${q.handle}`)],
    );
    const times = new Map<string, Map<string, number>>();
    const executors: Record<string, number> = {};
    for (const row of rows) {
      const handle = row.stream_id.slice('query-'.length);
      const byType = times.get(handle) ?? new Map<string, number>();
      byType.set(row.type, row.occurred_at.getTime());
      times.set(handle, byType);
      if (row.type === 'QueryLaunched' && row.executor) executors[row.executor] = (executors[row.executor] ?? 0) + 1;
    }
    const perStage = new Map<string, number[]>(STAGES.map(([name]) => [name, []]));
    for (const query of queries) {
      const byType = times.get(query.handle);
      if (!byType) throw new Error(`no events for query ${query.handle}`);
      byType.set('sent', query.sentAt);
      byType.set('seen', query.seenAt);
      for (const [name, from, to] of STAGES) {
        const a = byType.get(from);
        const b = byType.get(to);
        if (a === undefined || b === undefined) throw new Error(`query ${query.handle} has no ${a === undefined ? from : to} event`);
        perStage.get(name)?.push(b - a);
      }
    }
    return { stages: Object.fromEntries([...perStage].map(([name, values]) => [name, summarize(values)])), executors, times };
  } finally {
    await pool.end();
  }
}

const logStages = (ctx: BenchContext, breakdown: Breakdown) => {
  for (const [name, summary] of Object.entries(breakdown.stages)) ctx.log(`    ${name}: p50 ${summary.p50.toFixed(1)} ms, p99 ${summary.p99.toFixed(1)} ms`);
};

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const s = settings(ctx.quick);

  ctx.log('migrating the bench database, creating a warehouse database');
  await runMigrations(ctx.databaseUrl, ALL_MIGRATIONS);
  // The run's database is shared by every bench of the run: the failover bench's kills left their NodeDown.
  const eventsBefore = await lastGlobalPosition(ctx.databaseUrl);
  const warehouse = await ctx.createDatabase('wh');
  // An empty folder for the DuckDB driver (it plans every query too, for the cost comparison).
  const duckdbDir = mkdtempSync(join(tmpdir(), 'quarry-bench-duck-'));
  ctx.defer(() => rmSync(duckdbDir, { recursive: true, force: true }));

  ctx.log(`starting nodes L1, L2, L3 (QUARRY_MAX_RUNNING_QUERIES=${s.maxRunningPerNode}) and the balancer`);
  const env = {
    QUARRY_PG_WAREHOUSE_URL: warehouse.readerUrl,
    QUARRY_DUCKDB_WAREHOUSE: duckdbDir,
    QUARRY_MAX_RUNNING_QUERIES: String(s.maxRunningPerNode),
    QUARRY_MAX_SESSIONS_PER_USER: '100000',
  };
  const { nodes, balancer, direct, viaBalancer, alive, cpuDuring } = await startCluster(ctx, { partitions: PARTITIONS, env, balancerSockets: s.concurrency });
  const pg = await pgSelectClient(ctx, warehouse.url);
  /** `work`, with the CPU the machine, each node and the PostgreSQL backends of the two databases used meanwhile. */
  const statsPool = scratchPool(ctx.databaseUrl);
  ctx.defer(() => statsPool.end());
  const stack: StackParts = {
    nodes,
    balancerPid: balancer.pid,
    brokerPid: brokerPid(ctx.repoRoot),
    pool: statsPool,
    databases: [ctx.databaseName, warehouse.name],
    excludeApplication: PG_BASELINE_APPLICATION,
  };
  /** `work`, with the CPU the machine and each part of the stack (nodes, balancer, PostgreSQL, broker) used meanwhile. */
  const measuredCpu = async <T>(work: () => Promise<T>) => {
    const { result: inner, cpuMs } = await stackCpuDuring(stack, () => cpuDuring(work));
    const { result, cpu, elapsedMs } = inner;
    const postgresBackendsCpuShare = (cpuMs['PostgreSQL backends'] ?? 0) / elapsedMs;
    return { result, elapsedMs, cpu: { ...cpu, postgresBackendsCpuShare, stackCpuMs: cpuMs } };
  };

  // The cluster's own background (relay, consumers, timers) while nothing is asked of it.
  const idle = (await measuredCpu(() => sleep(s.idleMs))).cpu;
  ctx.log(
    `idle for ${s.idleMs / 1000} s: machine busy ${(idle.machineBusyShare * 100).toFixed(0)}%, nodes ${Object.entries(idle.nodeCpuShare).map(([n, v]) => `${n} ${(v * 100).toFixed(0)}%`).join(' ')}, backends ${(idle.postgresBackendsCpuShare * 100).toFixed(0)}%`,
  );

  // --- 1. Sustained EXECUTE_WITH_TIMEOUT through the balancer, against raw pg at the same concurrency. ---
  const sessions: OpenedSession[] = [];
  for (let k = 0; k < s.sessions; k++) sessions.push(await openSession(viaBalancer, `bench-load-${k}`));
  const inline = sessions.map((x) => ({ ...submitQueryRequest(x, QUERY, 'EXECUTE_WITH_TIMEOUT', { timeoutmillis: String(INLINE_TIMEOUT_MS) }), timeoutMs: INLINE_TIMEOUT_MS + 5_000 }));
  let answered: Timed[] = [];
  const quarryLoad = (durationMs: number) =>
    closedLoopOf({
      concurrency: s.concurrency,
      durationMs,
      signal: ctx.signal,
      op: async (i) => {
        const sentAt = wallClock();
        const answer = await viaBalancer.request(inline[i % inline.length]);
        if (answer.status !== 200) return { ok: false, ms: answer.ms, error: `HTTP ${answer.status}: ${answer.body.slice(0, 200)}` };
        const result = inlineResultFrom(answer);
        const ok = result.status === 'SUCCESSFUL' && result.rows?.length === 1 && result.rows[0][0] === 1;
        if (ok && result.handle) answered.push({ handle: result.handle, sentAt, seenAt: wallClock() });
        return ok ? { ok, ms: answer.ms } : { ok, ms: answer.ms, error: `${result.status} ${result.errorMessage ?? ''} rows ${JSON.stringify(result.rows)}` };
      },
    });
  const checked = (kind: string, result: LoadRun) => {
    if (result.errors > 0) throw new Error(`${kind}: ${result.errors} of ${result.requests + result.errors} queries failed, first: ${result.firstError}`);
    return result;
  };
  ctx.log(`sustained: ${s.concurrency} lanes over ${s.sessions} sessions, EXECUTE_WITH_TIMEOUT via the balancer, ${COLD_WINDOW_MS / 1000} s cold + ${s.warmupMs / 1000} s warm-up + ${s.runMs / 1000} s; raw pg the same`);
  alive();
  // Raw pg first: its 32 connections and the nodes' warehouse connections, opened by the 32 lanes
  // (up to QUARRY_MAX_RUNNING_QUERIES each), would not fit together in max_connections (100).
  const pgLoad = checked('raw pg SELECT 1', await pgSelectLoad(warehouse.url, { concurrency: s.concurrency, durationMs: s.runMs, warmupMs: Math.min(1_000, s.warmupMs), signal: ctx.signal }));
  ctx.log(`  pg: ${Math.round(pgLoad.perSecond)} q/s, p50 ${pgLoad.latency.p50.toFixed(2)} ms, p99 ${pgLoad.latency.p99.toFixed(2)} ms, client CPU ${(pgLoad.clientCpuShare * 100).toFixed(0)}%`);
  alive();
  // A cold cluster first (its JIT compiling what the load runs), then the warm-up to the steady
  // state every long-running node is in: measured, the CPU per query kept falling for ~45 s of
  // this load on a 2-core machine (ADR 11, "Eighth pass"). Both figures are reported.
  const cold = await measuredCpu(() => quarryLoad(COLD_WINDOW_MS));
  const coldCpu = perQuery(cold.cpu, checked('quarry, cold', cold.result).requests);
  ctx.log(`  quarry, first ${COLD_WINDOW_MS / 1000} s of a cold cluster: ${Math.round(cold.result.perSecond)} q/s, ${coldCpu.cpuMsPerQuery.toFixed(1)} ms CPU per query, whole stack (${parts(coldCpu)})`);
  checked('quarry warm-up', await quarryLoad(s.warmupMs));
  answered = [];
  const countsBefore = await statementCounts(direct);
  const measured = await measuredCpu(() => quarryLoad(s.runMs));
  const load = checked('EXECUTE_WITH_TIMEOUT via the balancer', measured.result);
  const countsAfter = await statementCounts(direct);
  // Everything the nodes sent to Quarry's database over the run (the relay and the projections
  // included), as each node counts it around its pool; the /metrics scrapes themselves add none.
  const statements = {
    perQuery: (countsAfter.statements - countsBefore.statements) / load.requests,
    writeCommitsPerQuery: (countsAfter.writeCommits - countsBefore.writeCommits) / load.requests,
  };
  const cpu = perQuery(measured.cpu, load.requests);
  const loadBreakdown = await stagesOf(ctx.databaseUrl, answered);
  const share = (v: number) => `${(v * 100).toFixed(0)}%`;
  ctx.log(
    `  quarry: ${Math.round(load.perSecond)} q/s, p50 ${load.latency.p50.toFixed(2)} ms, p99 ${load.latency.p99.toFixed(2)} ms; CPU: machine busy ${share(cpu.machineBusyShare)} of ${cpus().length} cores, ` +
      `nodes ${Object.entries(cpu.nodeCpuShare).map(([n, v]) => `${n} ${share(v)}`).join(' ')}, their PostgreSQL backends ${share(cpu.postgresBackendsCpuShare)}, client ${share(load.clientCpuShare)}; ` +
      `${cpu.cpuMsPerQuery.toFixed(1)} ms CPU per query, whole stack (${parts(cpu)}); processes started on the machine: ${(cpu.machineForks / load.requests).toFixed(2)} per query; ` +
      `in Quarry's database ${statements.perQuery.toFixed(1)} statements and ${statements.writeCommitsPerQuery.toFixed(2)} write commits per query; where the time went:`,
  );
  logStages(ctx, loadBreakdown);
  alive();
  // Under this load every node is alive: a NodeDown now would be the failure detector's mistake.
  const falseDowns = await nodeDownsIn(ctx.databaseUrl, eventsBefore);
  if (falseDowns > 0) throw new Error(`${falseDowns} NodeDown during the queries bench: the failure detector declared a live node down under load`);

  // --- 2. End to end, one at a time, on the warm cluster: EXECUTE on one node, poll another; raw pg beside each. ---
  ctx.log(`SELECT 1 end to end: ${s.warmup} warm-up + ${s.samples} queries, submitter and poller rotating, each beside a raw pg SELECT 1`);
  const session = await openSession(direct[0], 'bench-e2e');
  const submit = submitQueryRequest(session, QUERY, 'EXECUTE');
  const pairs = ORDERED_NODE_PAIRS;
  const samples: Sample[] = [];
  const pgMs: number[] = [];
  const oneQuery = async (i: number) => {
    ctx.signal.throwIfAborted();
    const [submitter, poller] = pairs[i % pairs.length];
    const sample = await endToEnd(ctx, direct[submitter], direct[poller], session, submit);
    const pgSample = await pg.roundTrip();
    return { sample: { ...sample, pair: `${nodes[submitter].nodeId}->${nodes[poller].nodeId}` }, pgSample };
  };
  for (let i = 0; i < s.warmup; i++) await oneQuery(i);
  const sequentialCpu = await measuredCpu(async () => {
    for (let i = s.warmup; i < s.warmup + s.samples; i++) {
      const { sample, pgSample } = await oneQuery(i);
      samples.push(sample);
      pgMs.push(pgSample);
    }
  });
  alive();
  const drivers = countBy(samples.map((x) => x.driver ?? '(none)'));
  if (Object.keys(drivers).some((d) => d !== 'pg')) ctx.log(`note: the drivers chosen for ${QUERY} were ${JSON.stringify(drivers)}, not only pg`);
  const e2e = summarize(samples.map((x) => x.totalMs));
  const pgE2e = summarize(pgMs);
  const breakdown = await stagesOf(ctx.databaseUrl, samples);
  const submitAfterEvent = summarize(samples.map((x) => x.submittedAt - (breakdown.times.get(x.handle)?.get('QuerySubmitted') ?? Number.NaN)));
  ctx.log(`  quarry p50 ${e2e.p50.toFixed(2)} ms, p99 ${e2e.p99.toFixed(2)} ms; pg p50 ${pgE2e.p50.toFixed(3)} ms; polls/query p50 ${summarize(samples.map((x) => x.polls)).p50}; where the time went:`);
  logStages(ctx, breakdown);
  const sequential = perQuery(sequentialCpu.cpu, samples.length);
  ctx.log(
    `    CPU per query (whole stack): ${sequential.cpuMsPerQuery.toFixed(1)} ms (${parts(sequential)}); machine busy ${(sequential.machineBusyShare * 100).toFixed(0)}%; ` +
      `processes started on the machine: ${(sequential.machineForks / samples.length).toFixed(2)} per query`,
  );


  return [
    ...rows({ s, e2e, pgE2e, samples, drivers, breakdown, submitAfterEvent, load, pgLoad, loadBreakdown, cpu, coldCpu, sequential, idle, statements }),
    { name: NAME, metric: 'NodeDown under load (must be 0)', value: falseDowns, unit: 'events' },
  ];
}

/** NodeDown appended after global position `since` (this bench's own nodes). */
async function nodeDownsIn(url: string, since: number): Promise<number> {
  return oneNumber(url, `SELECT count(*)::int AS n FROM events WHERE type = 'NodeDown' AND global_position > $1`, [since]);
}

async function lastGlobalPosition(url: string): Promise<number> {
  return oneNumber(url, `SELECT COALESCE(max(global_position), 0) AS n FROM events`, []);
}

async function oneNumber(url: string, sql: string, values: unknown[]): Promise<number> {
  const pool = new Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 10_000 });
  try {
    // bigint arrives as text
    return Number((await pool.query<{ n: number | string }>(sql, values)).rows[0].n);
  } finally {
    await pool.end();
  }
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

interface Measured {
  s: Settings;
  e2e: LatencySummary;
  pgE2e: LatencySummary;
  samples: Sample[];
  drivers: Record<string, number>;
  breakdown: Breakdown;
  submitAfterEvent: LatencySummary;
  load: LoadRun;
  pgLoad: LoadRun;
  loadBreakdown: Breakdown;
  cpu: MeasuredCpu;
  coldCpu: MeasuredCpu;
  sequential: MeasuredCpu;
  idle: StackCpu;
  statements: { perQuery: number; writeCommitsPerQuery: number };
}

type StackCpu = CpuShares & { postgresBackendsCpuShare: number; stackCpuMs: Record<string, number> };
type MeasuredCpu = StackCpu & { cpuMsPerQuery: number; cpuMsPerQueryByPart: Record<string, number> };

/** CPU the whole stack (nodes with their DuckDB hosts, balancer, PostgreSQL backends and server, broker) used per query over a measured stretch. */
const STACK = 'the 3 nodes with their DuckDB hosts, the balancer, the PostgreSQL backends of both databases and the server\'s own processes, the broker';
const goal = (metric: string, value: number, unit: string): BaselineRef => ({ name: 'goal (issue 11)', metric, value, unit });
const GOALS = {
  cpuMsPerQuery: goal('CPU per query, at most', 6, 'ms'),
  perSecond: goal('throughput, at least', 300, 'q/s'),
  overheadMs: goal('overhead p50, at most', 10, 'ms'),
  statements: goal('statements per query in Quarry database, at most', 15, 'statements'),
  writeCommits: goal('WAL-flushing commits per query, at most', 3, 'commits'),
};

const parts = (cpu: MeasuredCpu) =>
  Object.entries(cpu.cpuMsPerQueryByPart)
    .map(([part, ms]) => `${part} ${ms.toFixed(1)}`)
    .join(', ');

function perQuery(cpu: StackCpu, queries: number): MeasuredCpu {
  const cpuMsPerQueryByPart = Object.fromEntries(Object.entries(cpu.stackCpuMs).map(([part, ms]) => [part, ms / queries]));
  const cpuMsPerQuery = Object.values(cpu.stackCpuMs).reduce((a, b) => a + b, 0) / queries;
  return { ...cpu, cpuMsPerQuery, cpuMsPerQueryByPart };
}

function rows(m: Measured): BenchRow[] {
  const PG1 = 'baseline: raw pg SELECT 1, sequential';
  const PGN = `baseline: raw pg SELECT 1, ${m.s.concurrency} connections`;
  const ref = (name: string, metric: string, value: number, unit: string): BaselineRef => ({ name, metric, value, unit });
  const pgP50 = ref(PG1, 'latency p50', m.pgE2e.p50, 'ms');
  const pgP99 = ref(PG1, 'latency p99', m.pgE2e.p99, 'ms');
  const pgRate = ref(PGN, 'throughput', m.pgLoad.perSecond, 'q/s');
  const pgLoadP50 = ref(PGN, 'latency p50', m.pgLoad.latency.p50, 'ms');
  const pgLoadP99 = ref(PGN, 'latency p99', m.pgLoad.latency.p99, 'ms');
  const run = (r: LoadRun) => ({ requests: r.requests, elapsedMs: r.elapsedMs, ...r.latency, clientCpuShare: r.clientCpuShare });
  const polls = summarize(m.samples.map((x) => x.polls));
  const submit = summarize(m.samples.map((x) => x.submitMs));
  const loadDetail = { lanes: m.s.concurrency, sessions: m.s.sessions, runMs: m.s.runMs, warmupMs: m.s.warmupMs, timeoutmillis: INLINE_TIMEOUT_MS, maxRunningPerNode: m.s.maxRunningPerNode };
  const stageRows: BenchRow[] = Object.entries(m.breakdown.stages).map(([stage, summary]) => ({
    name: NAME,
    metric: `stage ${stage} p50`,
    value: summary.p50,
    unit: 'ms',
    detail: { ...summary, source: 'events.occurred_at (ms) and the client wall clock' },
  }));
  return [
    // Issue 11 asks for this figure first: the steadiest on a noisy machine.
    { name: NAME, metric: 'CPU per query under load', value: m.cpu.cpuMsPerQuery, unit: 'ms', baseline: GOALS.cpuMsPerQuery, detail: { ...m.cpu, what: STACK } },
    ...Object.entries(m.cpu.cpuMsPerQueryByPart).map(([part, ms]) => ({ name: NAME, metric: `  of which ${part}`, value: ms, unit: 'ms' })),
    { name: NAME, metric: `CPU per query under load, first ${COLD_WINDOW_MS / 1000} s of a cold cluster`, value: m.coldCpu.cpuMsPerQuery, unit: 'ms', detail: { ...m.coldCpu, what: STACK } },
    {
      name: NAME,
      metric: 'SELECT 1 submit → SUCCESSFUL p50',
      value: m.e2e.p50,
      unit: 'ms',
      baseline: pgP50,
      detail: { ...m.e2e, warmup: m.s.warmup, pollIntervalMs: POLL_INTERVAL_MS, pollsPerQuery: polls, drivers: m.drivers, executors: m.breakdown.executors, pairs: countBy(m.samples.map((x) => x.pair)) },
    },
    { name: NAME, metric: 'SELECT 1 submit → SUCCESSFUL p99', value: m.e2e.p99, unit: 'ms', baseline: pgP99 },
    { name: NAME, metric: 'overhead per query p50 (quarry - pg)', value: m.e2e.p50 - m.pgE2e.p50, unit: 'ms', baseline: GOALS.overheadMs },
    { name: NAME, metric: 'CPU per query, one at a time', value: m.sequential.cpuMsPerQuery, unit: 'ms', detail: { ...m.sequential, what: STACK, clientPolls: 'included', idleBefore: m.idle } },
    { name: NAME, metric: 'EXECUTE answer p50', value: submit.p50, unit: 'ms', detail: { ...submit, afterQuerySubmittedEvent: m.submitAfterEvent } },
    ...stageRows,
    {
      name: NAME,
      metric: 'EXECUTE_WITH_TIMEOUT via balancer',
      value: m.load.perSecond,
      unit: 'q/s',
      baseline: pgRate,
      detail: { ...loadDetail, goalPerSecond: 300, ...run(m.load), ...m.cpu, stages: m.loadBreakdown.stages, executors: m.loadBreakdown.executors },
    },
    { name: NAME, metric: 'EXECUTE_WITH_TIMEOUT via balancer, against the goal', value: m.load.perSecond, unit: 'q/s', baseline: GOALS.perSecond },
    { name: NAME, metric: 'statements per query under load', value: m.statements.perQuery, unit: 'statements', baseline: GOALS.statements, detail: { source: 'quarry_db_statements_total of every node, over the measured run' } },
    { name: NAME, metric: 'write commits per query under load', value: m.statements.writeCommitsPerQuery, unit: 'commits', baseline: GOALS.writeCommits },
    { name: NAME, metric: 'EXECUTE_WITH_TIMEOUT via balancer p50', value: m.load.latency.p50, unit: 'ms', baseline: pgLoadP50 },
    { name: NAME, metric: 'EXECUTE_WITH_TIMEOUT via balancer p99', value: m.load.latency.p99, unit: 'ms', baseline: pgLoadP99 },
    { ...pgP50, detail: { ...m.pgE2e } },
    pgP99,
    { ...pgRate, detail: { lanes: m.s.concurrency, runMs: m.s.runMs, ...run(m.pgLoad) } },
    pgLoadP50,
    pgLoadP99,
  ];
}
