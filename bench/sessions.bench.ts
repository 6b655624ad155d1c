import { runMigrations } from '@quarry/eventstore';
import { ALL_MIGRATIONS } from '@quarry/node-runtime';
import { BalancerProcess, type BalancerKind } from './lib/balancer-process';
import { startCluster, type BenchCluster } from './lib/cluster';
import type { BaselineRef, BenchContext, BenchRow } from './lib/context';
import { closedLoop, KeepAliveClient, type HttpAnswer, type LoadRun } from './lib/http-client';
import { openSession as open, type OpenedSession } from './lib/lens-api';
import { scratchPool, stackCpuDuring, type StackParts } from './lib/stack-processes';
import { processCpuMs, summarize, type LatencySummary } from './lib/stats';
import { ORDERED_NODE_PAIRS } from './lib/node-pairs';

/**
 * The Lens session API on a cluster: three real node processes (L1, L2, L3), each on its own
 * loopback port, and the balancer QUARRY_BALANCER chooses (strict round robin) as a fourth process.
 *
 * 1. First use on a new node: a session opened on one node, then at once GET session/params on
 *    another node that never saw it (cold: no cached state), then the same GET again on that node
 *    (warm). Opener and server rotate over all six ordered pairs.
 * 2. Session calls through the balancer: GET session/params (keep-alive, fixed concurrency, fixed
 *    duration) against GET /health through the same balancer, the same way, alternating the two;
 *    with the CPU per request of the nodes, the balancer and the bench database's PostgreSQL
 *    backends (what a shared, busy machine does not blur as it blurs req/s).
 * 3. Opening a session (POST) through the balancer.
 * 4. Is the balancer the ceiling? GET /health straight to L1 against GET /health through the Node
 *    balancer and through HAProxy (when installed), same lanes, in rotating order, with the CPU
 *    each balancer process spends per request.
 */

const NAME = 'sessions';
/** ~75 s on a quiet 2-core machine with part 4; room for a busy one beyond the runner's 150 s default. */
export const timeoutMs = 240_000;
const PARTITIONS = 3;
const PARAM_KEY = 'lens.query.output.write.header';

interface Settings {
  /** Part 1: sessions opened before the measured ones, then the measured ones. */
  firstUseWarmup: number;
  firstUseSamples: number;
  /** Part 3: sequential opens through the balancer; the sessions are then the pool part 2 reads. */
  openWarmup: number;
  openSamples: number;
  /** Part 2: lanes, the length of each run, and how many health/params pairs. */
  concurrency: number;
  warmupMs: number;
  runMs: number;
  rounds: number;
  /** Part 4: the length of each direct / via-balancer /health run (same lanes and rounds). */
  compareWarmupMs: number;
  compareRunMs: number;
}

function settings(quick: boolean): Settings {
  return quick
    ? { firstUseWarmup: 12, firstUseSamples: 96, openWarmup: 10, openSamples: 60, concurrency: 32, warmupMs: 750, runMs: 1_500, rounds: 3, compareWarmupMs: 500, compareRunMs: 1_500 }
    : { firstUseWarmup: 30, firstUseSamples: 300, openWarmup: 15, openSamples: 150, concurrency: 32, warmupMs: 2_000, runMs: 5_000, rounds: 3, compareWarmupMs: 1_000, compareRunMs: 3_000 };
}

const paramsRequest = (session: OpenedSession) => ({
  path: `/lensapi/session/params?sessionid=${encodeURIComponent(session.xml)}&key=${PARAM_KEY}`,
  headers: { accept: 'application/json' },
});

const healthRequest = { path: '/health', headers: { accept: 'application/json' } };

const paramsOk = (answer: HttpAnswer) => answer.status === 200 && answer.body.includes(`${PARAM_KEY}=`);
const healthOk = (answer: HttpAnswer) => answer.status === 200;

/** A load run in which every request succeeded, or an error saying how many failed. */
function checked(kind: string, result: LoadRun): LoadRun {
  if (result.errors > 0) throw new Error(`${kind}: ${result.errors} of ${result.requests + result.errors} requests failed, first: ${result.firstError}`);
  return result;
}

async function params(client: KeepAliveClient, session: OpenedSession): Promise<number> {
  const answer = await client.request(paramsRequest(session));
  if (!paramsOk(answer)) throw new Error(`GET session/params on ${client.baseUrl} failed: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
  return answer.ms;
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const s = settings(ctx.quick);

  ctx.log('migrating the bench database');
  await runMigrations(ctx.databaseUrl, ALL_MIGRATIONS);
  ctx.log('starting nodes L1, L2, L3 and the balancer');
  const env = { QUARRY_MAX_SESSIONS_PER_USER: '100000' };
  const { nodes, direct, balancer, viaBalancer, alive } = await startCluster(ctx, { partitions: PARTITIONS, env, balancerSockets: s.concurrency });

  // --- 1. First use on a new node: cold GET on a node that never saw the session, then warm. ---
  ctx.log(`first use on a new node: ${s.firstUseWarmup} warm-up + ${s.firstUseSamples} sessions, opener and server rotating`);
  const cold: number[] = [];
  const warm: number[] = [];
  const pairs = ORDERED_NODE_PAIRS;
  const pairCounts = new Map<string, number>();
  for (let i = 0; i < s.firstUseWarmup + s.firstUseSamples; i++) {
    ctx.signal.throwIfAborted();
    const [opener, server] = pairs[i % pairs.length];
    const session = await open(direct[opener], `first-use-${i}`);
    const coldMs = await params(direct[server], session);
    const warmMs = await params(direct[server], session);
    if (i < s.firstUseWarmup) continue;
    cold.push(coldMs);
    warm.push(warmMs);
    const pair = `${nodes[opener].nodeId}->${nodes[server].nodeId}`;
    pairCounts.set(pair, (pairCounts.get(pair) ?? 0) + 1);
  }
  const firstUse = { cold: summarize(cold), warm: summarize(warm), pairs: Object.fromEntries(pairCounts) };
  alive();

  // --- 3. Opening through the balancer (sequential); these sessions feed the params load. ---
  ctx.log(`open through the balancer: ${s.openWarmup} warm-up + ${s.openSamples} sequential POSTs`);
  const pool: OpenedSession[] = [];
  const openMs: number[] = [];
  for (let i = 0; i < s.openWarmup + s.openSamples; i++) {
    ctx.signal.throwIfAborted();
    const session = await open(viaBalancer, `via-balancer-${i}`);
    pool.push(session);
    if (i >= s.openWarmup) openMs.push(session.ms);
  }
  const opening = summarize(openMs);
  alive();

  // --- 2. GET params vs GET /health through the balancer, alternating, same lanes and length. ---
  const paramsPaths = pool.map(paramsRequest);
  const loads = {
    health: (durationMs: number) => closedLoop({ client: viaBalancer, concurrency: s.concurrency, durationMs, request: () => healthRequest, ok: healthOk, signal: ctx.signal }),
    params: (durationMs: number) =>
      closedLoop({ client: viaBalancer, concurrency: s.concurrency, durationMs, request: (i) => paramsPaths[i % paramsPaths.length], ok: paramsOk, signal: ctx.signal }),
  };
  ctx.log(`through the balancer: warm-up, then ${s.rounds} × (health, params) runs of ${s.runMs / 1000} s, ${s.concurrency} lanes, keep-alive`);
  checked('health warm-up through the balancer', await loads.health(s.warmupMs));
  checked('params warm-up through the balancer', await loads.params(s.warmupMs));
  const statsPool = scratchPool(ctx.databaseUrl);
  ctx.defer(() => statsPool.end());
  const stack: StackParts = { nodes, balancerPid: balancer.pid, pool: statsPool, databases: [ctx.databaseName] };
  const runs: Record<'health' | 'params', StackRun[]> = { health: [], params: [] };
  for (let round = 0; round < s.rounds; round++) {
    const order = round % 2 === 0 ? (['health', 'params'] as const) : (['params', 'health'] as const);
    for (const kind of order) {
      alive();
      const { result, cpuMs } = await stackCpuDuring(stack, async () => checked(`${kind} through the balancer`, await loads[kind](s.runMs)));
      const perRequestUs = (ms: number) => (ms * 1000) / result.requests;
      const nodesUs = perRequestUs(nodes.reduce((sum, n) => sum + (cpuMs[n.nodeId] ?? Number.NaN), 0));
      const run = { ...result, nodesUs, postgresUs: perRequestUs(cpuMs['PostgreSQL backends'] ?? Number.NaN), balancerUs: perRequestUs(cpuMs['balancer'] ?? Number.NaN) };
      runs[kind].push(run);
      ctx.log(
        `  ${kind}: ${Math.round(result.perSecond)} req/s, p50 ${result.latency.p50.toFixed(2)} ms, p99 ${result.latency.p99.toFixed(2)} ms, client CPU ${(result.clientCpuShare * 100).toFixed(0)}%; CPU µs/request: nodes ${run.nodesUs.toFixed(0)}, PostgreSQL backends ${run.postgresUs.toFixed(0)}, balancer ${run.balancerUs.toFixed(0)}`,
      );
    }
  }
  alive();

  // --- 4. /health straight to L1 against /health through each balancer, rotating the order. ---
  const compared = await healthDirectVsBalancers(ctx, s, { nodes, balancer, viaBalancer, alive });

  return rows({ s, firstUse, opening, health: medianOf(runs.health), params: medianOf(runs.params), runs, poolSize: pool.length, balancerKind: balancer.kind, compared });
}

/** Part 4: where /health goes (straight to L1, or through a balancer of that kind), and its runs. */
interface Compared {
  name: 'direct' | BalancerKind;
  client: KeepAliveClient;
  balancer?: BalancerProcess;
  runs: CompareRun[];
}

/**
 * The cluster's own balancer (QUARRY_BALANCER) and, in front of the same nodes, the other kind if
 * this machine has it: warm-up, then `rounds` rounds of direct / node / haproxy in rotating order.
 */
async function healthDirectVsBalancers(ctx: BenchContext, s: Settings, cluster: Pick<BenchCluster, 'nodes' | 'balancer' | 'viaBalancer' | 'alive'>): Promise<Compared[]> {
  const { nodes } = cluster;
  const kinds: BalancerKind[] = (await BalancerProcess.kindHere(ctx, 'auto')) === 'haproxy' ? ['node', 'haproxy'] : ['node'];
  const client = (url: string) => {
    const made = new KeepAliveClient(url, s.concurrency);
    ctx.defer(() => made.close());
    return made;
  };
  const targets: Compared[] = [{ name: 'direct', client: client(nodes[0].url), runs: [] }];
  for (const kind of kinds) {
    if (kind === cluster.balancer.kind) targets.push({ name: kind, client: cluster.viaBalancer, balancer: cluster.balancer, runs: [] });
    else {
      const other = await BalancerProcess.start(ctx, nodes.map((n) => `${n.nodeId}=${n.url}`), kind);
      targets.push({ name: kind, client: client(other.url), balancer: other, runs: [] });
    }
  }
  const alive = () => {
    cluster.alive();
    for (const { balancer } of targets) if (balancer && !balancer.running) throw new Error(`the ${balancer.kind} balancer exited during the bench:\n${balancer.output()}`);
  };
  const balancerCpuMs = (target: Compared) => (target.balancer?.pid === undefined ? Number.NaN : (processCpuMs(target.balancer.pid) ?? Number.NaN));
  const nodesCpuMs = () => nodes.reduce((sum, n) => sum + (n.cpuMs() ?? Number.NaN), 0);
  const healthRun = async (target: Compared, durationMs: number): Promise<CompareRun> => {
    const [balancer0, nodes0] = [balancerCpuMs(target), nodesCpuMs()];
    const load = { client: target.client, concurrency: s.concurrency, durationMs, request: () => healthRequest, ok: healthOk, signal: ctx.signal };
    const run = checked(`GET /health ${target.name === 'direct' ? `straight to ${nodes[0].nodeId}` : `via ${target.name}`}`, await closedLoop(load));
    return { ...run, balancerCpuMsPerRequest: (balancerCpuMs(target) - balancer0) / run.requests, nodesCpuMsPerRequest: (nodesCpuMs() - nodes0) / run.requests };
  };

  ctx.log(`/health straight to ${nodes[0].nodeId} vs via ${kinds.join(' and ')}: warm-up, then ${s.rounds} rounds of ${s.compareRunMs / 1000} s each, ${s.concurrency} lanes, rotating order`);
  for (const target of targets) await healthRun(target, s.compareWarmupMs);
  for (let round = 0; round < s.rounds; round++) {
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(round + i) % targets.length];
      alive();
      const result = await healthRun(target, s.compareRunMs);
      target.runs.push(result);
      const balancerCpu = target.balancer ? `, balancer CPU ${(result.balancerCpuMsPerRequest * 1000).toFixed(0)} µs/request` : '';
      ctx.log(`  ${target.name}: ${Math.round(result.perSecond)} req/s, p50 ${result.latency.p50.toFixed(2)} ms${balancerCpu}, nodes CPU ${(result.nodesCpuMsPerRequest * 1000).toFixed(0)} µs/request`);
    }
  }
  alive();
  return targets;
}

/** One part-2 run, with CPU µs per request of the three nodes together, the bench database's backends and the balancer. */
type StackRun = LoadRun & { nodesUs: number; postgresUs: number; balancerUs: number };

/** One part-4 run, with CPU per request of the balancer (NaN straight to L1) and of the three nodes together. */
type CompareRun = LoadRun & { balancerCpuMsPerRequest: number; nodesCpuMsPerRequest: number };

interface MedianRun {
  perSecond: number;
  p50: number;
  p99: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Each figure is the median over the runs, taken separately (requests/s, p50, p99). */
function medianOf(runs: LoadRun[]): MedianRun {
  return { perSecond: median(runs.map((r) => r.perSecond)), p50: median(runs.map((r) => r.latency.p50)), p99: median(runs.map((r) => r.latency.p99)) };
}

interface Measured {
  s: Settings;
  firstUse: { cold: LatencySummary; warm: LatencySummary; pairs: Record<string, number> };
  opening: LatencySummary;
  health: MedianRun;
  params: MedianRun;
  runs: Record<'health' | 'params', StackRun[]>;
  poolSize: number;
  balancerKind: BalancerKind;
  compared: Compared[];
}

function rows(m: Measured): BenchRow[] {
  const WARM = 'baseline: GET params, warm node';
  const HEALTH = 'baseline: GET /health via balancer';
  const ref = (name: string, metric: string, value: number, unit: string): BaselineRef => ({ name, metric, value, unit });
  const warmP50 = ref(WARM, 'latency p50', m.firstUse.warm.p50, 'ms');
  const warmP99 = ref(WARM, 'latency p99', m.firstUse.warm.p99, 'ms');
  const healthRate = ref(HEALTH, 'throughput', m.health.perSecond, 'req/s');
  const healthP50 = ref(HEALTH, 'latency p50', m.health.p50, 'ms');
  const healthP99 = ref(HEALTH, 'latency p99', m.health.p99, 'ms');
  const stackUs = (runs: StackRun[]) => median(runs.map((r) => r.nodesUs + r.postgresUs + r.balancerUs));
  const cpuParts = (runs: StackRun[]) => ({ nodesUs: median(runs.map((r) => r.nodesUs)), postgresUs: median(runs.map((r) => r.postgresUs)), balancerUs: median(runs.map((r) => r.balancerUs)) });
  const healthStackUs = ref(HEALTH, 'stack CPU per request', stackUs(m.runs.health), 'µs');
  const perRun = (runs: LoadRun[]) => runs.map((r) => ({ perSecond: r.perSecond, requests: r.requests, elapsedMs: r.elapsedMs, p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, clientCpuShare: r.clientCpuShare }));
  // Each round's params req/s over its own health req/s: how steady the ratio is from run to run.
  const roundRatios = m.runs.params.map((p, i) => p.perSecond / m.runs.health[i].perSecond);
  const loadDetail = { lanes: m.s.concurrency, runMs: m.s.runMs, rounds: m.s.rounds, statistic: 'median of the runs', sessions: m.poolSize, balancer: m.balancerKind };
  return [
    { name: NAME, metric: 'first GET on a new node p50', value: m.firstUse.cold.p50, unit: 'ms', baseline: warmP50, detail: { ...m.firstUse.cold, warmup: m.s.firstUseWarmup, pairs: m.firstUse.pairs } },
    { name: NAME, metric: 'first GET on a new node p99', value: m.firstUse.cold.p99, unit: 'ms', baseline: warmP99 },
    { name: NAME, metric: 'first GET extra p50 (new - warm)', value: m.firstUse.cold.p50 - m.firstUse.warm.p50, unit: 'ms', detail: { goalMs: 2 } },
    { name: NAME, metric: 'params via balancer', value: m.params.perSecond, unit: 'req/s', baseline: healthRate, detail: { ...loadDetail, goalRatio: 0.8, roundRatios, runs: perRun(m.runs.params) } },
    { name: NAME, metric: 'params via balancer, stack CPU per request', value: stackUs(m.runs.params), unit: 'µs', baseline: healthStackUs, detail: { what: 'nodes + PostgreSQL backends + balancer, median of the runs', ...cpuParts(m.runs.params) } },
    { name: NAME, metric: 'params via balancer p50', value: m.params.p50, unit: 'ms', baseline: healthP50 },
    { name: NAME, metric: 'params via balancer p99', value: m.params.p99, unit: 'ms', baseline: healthP99 },
    { name: NAME, metric: 'open via balancer p50', value: m.opening.p50, unit: 'ms', detail: { ...m.opening, warmup: m.s.openWarmup } },
    { name: NAME, metric: 'open via balancer p99', value: m.opening.p99, unit: 'ms' },
    { ...warmP50, detail: { ...m.firstUse.warm } },
    warmP99,
    { ...healthRate, detail: { ...loadDetail, runs: perRun(m.runs.health) } },
    { ...healthStackUs, detail: cpuParts(m.runs.health) },
    healthP50,
    healthP99,
    ...balancerRows(m),
  ];
}

const BALANCER_NAMES: Record<BalancerKind, string> = { node: 'Node balancer', haproxy: 'HAProxy' };

/**
 * Part 4: /health via each balancer against /health straight to one node (ratio: the share of the
 * direct rate), and each balancer's CPU per request (HAProxy's against the Node balancer's).
 */
function balancerRows(m: Measured): BenchRow[] {
  const DIRECT = 'baseline: GET /health direct (L1)';
  const perRun = (runs: CompareRun[]) =>
    runs.map((r) => ({ perSecond: r.perSecond, p50: r.latency.p50, p99: r.latency.p99, balancerCpuMsPerRequest: r.balancerCpuMsPerRequest, nodesCpuMsPerRequest: r.nodesCpuMsPerRequest, clientCpuShare: r.clientCpuShare }));
  const figures = (runs: CompareRun[]) => ({
    ...medianOf(runs),
    balancerCpuUs: median(runs.map((r) => r.balancerCpuMsPerRequest)) * 1000,
    nodesCpuUs: median(runs.map((r) => r.nodesCpuMsPerRequest)) * 1000,
  });
  const detail = { lanes: m.s.concurrency, runMs: m.s.compareRunMs, rounds: m.s.rounds, statistic: 'median of the runs', npmStartBalancer: m.balancerKind };
  const [directRuns, ...viaRuns] = m.compared;
  const direct = figures(directRuns.runs);
  const directRate: BaselineRef = { name: DIRECT, metric: 'throughput', value: direct.perSecond, unit: 'req/s' };
  const directP50: BaselineRef = { name: DIRECT, metric: 'latency p50', value: direct.p50, unit: 'ms' };
  const rows: BenchRow[] = [];
  let nodeBalancerCpu: BaselineRef | undefined;
  for (const { name: kind, runs } of viaRuns) {
    const name = BALANCER_NAMES[kind as BalancerKind];
    const via = figures(runs);
    const cpu: BaselineRef = { name: NAME, metric: `${name} CPU per /health`, value: via.balancerCpuUs, unit: 'µs' };
    const cpuDetail = { what: 'CPU time (user + system, /proc/<pid>/stat) of the balancer process during each run / its requests, in µs', runs: runs.map((r) => r.balancerCpuMsPerRequest * 1000) };
    rows.push(
      { name: NAME, metric: `GET /health via ${name}`, value: via.perSecond, unit: 'req/s', baseline: directRate, detail: { ...detail, nodesCpuUsPerRequest: via.nodesCpuUs, runs: perRun(runs) } },
      { name: NAME, metric: `GET /health via ${name} p50`, value: via.p50, unit: 'ms', baseline: directP50 },
      { ...cpu, ...(nodeBalancerCpu ? { baseline: nodeBalancerCpu } : {}), detail: cpuDetail },
    );
    if (kind === 'node') nodeBalancerCpu = cpu;
  }
  return [...rows, { ...directRate, detail: { ...detail, node: 'L1', nodesCpuUsPerRequest: direct.nodesCpuUs, runs: perRun(directRuns.runs) } }, directP50];
}
