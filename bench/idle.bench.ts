import { runMigrations } from '@quarry/eventstore';
import { ALL_MIGRATIONS } from '@quarry/node-runtime';
import { Pool } from 'pg';
import { startCluster } from './lib/cluster';
import type { BenchContext, BenchRow } from './lib/context';
import { cpuBetween, cpuOf, processTree } from './lib/process-tree';
import { brokerPid, postgresProcesses } from './lib/stack-processes';
import { busyShare, machineCpu, sleep } from './lib/stats';

/**
 * Issue 11's idle measure: 15 s after the nodes are started, for 5 s. QUARRY_BENCH_IDLE_SAMPLE_MS
 * samples longer (up to 120 s): a node's ~1% is a few clock ticks in 5 s, too coarse to compare two builds.
 */
const SETTLE_MS = 15_000;
const SAMPLE_MS = Math.min(120_000, Number(process.env.QUARRY_BENCH_IDLE_SAMPLE_MS) || 5_000);
export const timeoutMs = SETTLE_MS + SAMPLE_MS + 120_000;
const NAME = 'idle';
const GOAL = { name: 'goal (issue 11)', metric: 'idle stack, % of one core', value: 5, unit: '%' };

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  await runMigrations(ctx.databaseUrl, ALL_MIGRATIONS);
  const pool = new Pool({ connectionString: ctx.databaseUrl, max: 1, application_name: 'quarry bench idle' });
  pool.on('error', () => undefined);
  ctx.defer(() => pool.end());

  ctx.log(`starting L1, L2, L3 and the balancer; measuring ${SAMPLE_MS / 1000} s from ${SETTLE_MS / 1000} s after the start`);
  const startedAt = performance.now();
  const { nodes, balancer, alive } = await startCluster(ctx, { balancerSockets: 1 });
  await sleep(Math.max(0, startedAt + SETTLE_MS - performance.now()));
  alive();

  const broker = brokerPid(ctx.repoRoot);
  const groups = (pg: Awaited<ReturnType<typeof postgresProcesses>>): Record<string, number[]> => ({
    ...Object.fromEntries(nodes.map((n) => [n.nodeId, processTree(n.pid!)])),
    balancer: [balancer.pid!],
    'PostgreSQL backends of Quarry': pg.own,
    'PostgreSQL server (shared)': pg.server,
    ...(broker ? { 'Kafka broker (shared)': [broker] } : {}),
  });
  const pg0 = await postgresProcesses(pool, [ctx.databaseName]);
  const before = Object.entries(groups(pg0)).map(([name, pids]) => [name, cpuOf(pids)] as const);
  const machine0 = machineCpu();
  const t0 = performance.now();
  await sleep(SAMPLE_MS);
  const elapsedMs = performance.now() - t0;
  const machine1 = machineCpu();
  const pg1 = await postgresProcesses(pool, [ctx.databaseName]);
  // Processes of the second reading (a backend born meanwhile counts in full).
  const after = groups({ own: [...new Set([...pg0.own, ...pg1.own])], server: pg1.server });
  alive();

  const shares = before.map(([name, cpu0]) => ({ name, share: (cpuBetween(cpu0, cpuOf(after[name])) / elapsedMs) * 100, processes: after[name].length }));
  const total = shares.reduce((sum, s) => sum + s.share, 0);
  ctx.log(`idle: ${shares.map((s) => `${s.name} ${s.share.toFixed(1)}%`).join(', ')}; total ${total.toFixed(1)}%`);
  return [
    {
      name: NAME,
      metric: 'stack total (3 nodes, balancer, PostgreSQL, broker)',
      value: total,
      unit: '%',
      baseline: GOAL,
      detail: { settleMs: SETTLE_MS, elapsedMs, shares, machineBusyShare: busyShare(machine0, machine1), note: 'the PostgreSQL server and the broker are shared with whatever else runs on the machine' },
    },
    ...shares.map((s) => ({ name: NAME, metric: s.name, value: s.share, unit: '%', detail: { processes: s.processes } })),
    { name: NAME, metric: 'machine busy (all cores)', value: busyShare(machine0, machine1) * 100, unit: '%' },
  ];
}
