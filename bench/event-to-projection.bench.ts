import { randomUUID } from 'node:crypto';
import { JarAdded, SessionOpened, streamId, type NewEvent } from '@quarry/contracts';
import { PgEventStore, runMigrations } from '@quarry/eventstore';
import { ALL_MIGRATIONS } from '@quarry/node-runtime';
import { Client, Pool } from 'pg';
import type { BenchContext, BenchRow } from './lib/context';
import { KafkaRoundTripBaseline } from './lib/kafka-roundtrip-baseline';
import { withDeadline, type LoadResult, type LoadSettings } from './lib/load';
import { PgInsertBaseline } from './lib/pg-insert-baseline';
import { QuarryNode } from './lib/quarry-node';
import { brokerPid, scratchPool, stackCpuDuring, type StackParts } from './lib/stack-processes';
import { SessionVisibility } from './lib/session-visibility';
import { runConcurrently, sleep, summarize, type LatencySummary } from './lib/stats';

/**
 * An event appended on one node until it is visible in a projection read on another.
 *
 * L2 is a real node process (relay + projections). This process plays L1: it appends with
 * PgEventStore as writer L1, and reads the `sessions` table through a connection of its own,
 * the way any node serves a read. Path measured: append transaction → NOTIFY → relay → Kafka
 * (acks -1) → L2's `sessions` consumer → projection transaction → visible to a reader (told by
 * a trigger of the bench's own, then confirmed by a read).
 */

const NAME = 'event-to-projection';
const PARTITIONS = 3;
const EVENTS_PER_SESSION = 5; // SessionOpened, then 4 JarAdded, one append each
/** Latency samples and throughput runs are taken in this many rounds, each beside the baselines'. */
const ROUNDS = 3;
const sha = 'c'.repeat(64);

function settings(quick: boolean): LoadSettings {
  return quick
    ? { warmup: 10, samples: 150, total: 1_000, concurrency: 8 }
    : { warmup: 30, samples: 900, total: 5_000, concurrency: 8 };
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const load = settings(ctx.quick);

  ctx.log('migrating the bench database');
  await runMigrations(ctx.databaseUrl, ALL_MIGRATIONS);
  ctx.log('starting node L2 (relay + projections)');
  const l2 = await QuarryNode.start(ctx, { nodeId: 'L2', partitions: PARTITIONS });

  const pool = new Pool({ connectionString: ctx.databaseUrl, max: load.concurrency + 1 });
  pool.on('error', () => undefined);
  ctx.defer(() => pool.end());
  const reader = new Client({ connectionString: ctx.databaseUrl });
  reader.on('error', () => undefined);
  await reader.connect();
  ctx.defer(() => reader.end());
  const store = new PgEventStore(pool, { nodeId: 'L1', nodeIncarnation: randomUUID() }, ctx.topicPrefix);

  const alive = () => {
    if (!l2.running) throw new Error(`node L2 exited during the bench:\n${l2.output()}`);
  };
  const pgInsert = await PgInsertBaseline.open(ctx, load.concurrency);
  const kafka = await KafkaRoundTripBaseline.open(ctx, PARTITIONS);

  // --- Latency: one SessionOpened at a time, until its `sessions` row is readable. ---
  // Seen without polling: a trigger of this bench's own on `sessions` NOTIFYs each new row when
  // L2's projection commits it, and one read then confirms it. Polling every millisecond cost this
  // process and PostgreSQL more CPU per event than the path it measured, on the same two cores.
  const visibility = await SessionVisibility.watch(ctx, reader);
  const sample = async (timeoutMs: number) => {
    const publicId = randomUUID();
    const opened = SessionOpened.create({ publicId, secretIdSha256: sha, userName: 'bench', database: 'default', params: {} });
    const seen = visibility.expect(publicId);
    const t0 = performance.now();
    await store.append(streamId('session', publicId), 'no_stream', [opened]);
    const appendedMs = performance.now() - t0;
    await withDeadline(seen, timeoutMs, `session ${publicId} becoming visible in the projection`).catch((error: Error) => {
      alive();
      throw error;
    });
    if (!(await visibility.readable(publicId))) throw new Error(`session ${publicId} was announced but is not readable`);
    return { totalMs: performance.now() - t0, appendedMs };
  };

  ctx.log(`latency: ${load.warmup} warm-up + ${load.samples} sequential events, in ${ROUNDS} rounds between the baselines'`);
  // The first events also wait for L2's consumers to join their group and get partitions.
  for (let i = 0; i < load.warmup; i++) await sample(60_000);
  await kafka.latencies(load.warmup, 30_000);
  await pgInsert.latencies(load.warmup);
  const totals: number[] = [];
  const appends: number[] = [];
  const kafkaLatencies: number[] = [];
  const pgLatencies: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const count = shareOf(load.samples, round);
    await inTurn(round, async () => {
      for (let i = 0; i < count; i++) {
        const { totalMs, appendedMs } = await sample(10_000);
        totals.push(totalMs);
        appends.push(appendedMs);
      }
    }, async () => {
      kafkaLatencies.push(...(await kafka.latencies(count, 10_000)));
      pgLatencies.push(...(await pgInsert.latencies(count)));
    });
  }
  alive();
  // The throughput phase is measured without the trigger and its notices.
  await visibility.stop();

  // --- Sustained throughput: `total` events over `concurrency` appenders, until all are projected. ---
  ctx.log(`throughput: ${ROUNDS} rounds of ${load.total} events, ${load.concurrency} appenders, sessions of ${EVENTS_PER_SESSION} events, each round beside the baselines'`);
  const appliedEvents = async () =>
    Number(
      (
        await reader.query<{ n: string }>({
          name: 'bench-applied-count',
          text: `SELECT coalesce(sum(version), 0) AS n FROM projection_streams WHERE projection = 'sessions'`,
        })
      ).rows[0].n,
    );
  const sessions = Math.ceil(load.total / EVENTS_PER_SESSION);
  const eventsPerRound = sessions * EVENTS_PER_SESSION;
  const statsPool = scratchPool(ctx.databaseUrl);
  ctx.defer(() => statsPool.end());
  const stack: StackParts = {
    nodes: [
      { nodeId: 'appenders (this process)', pid: process.pid, alone: true },
      { nodeId: 'L2', pid: l2.pid },
    ],
    brokerPid: brokerPid(ctx.repoRoot),
    pool: statsPool,
    databases: [ctx.databaseName],
  };
  const appendSessions = () =>
    runConcurrently(
      sessions,
      load.concurrency,
      async (s) => {
        const publicId = randomUUID();
        const stream = streamId('session', publicId);
        const events: NewEvent[] = [SessionOpened.create({ publicId, secretIdSha256: sha, userName: `user${s % 7}`, database: 'default', params: {} })];
        for (let i = 1; i < EVENTS_PER_SESSION; i++) {
          events.push(JarAdded.create({ publicId, resourceType: 'jar', path: `/jars/${s}/${i}.jar`, sha256: sha, sizeBytes: i }));
        }
        for (let v = 0; v < events.length; v++) await store.append(stream, v === 0 ? 'no_stream' : v, [events[v]]);
      },
      ctx.signal,
    );
  const rounds: ThroughputRound[] = [];
  const cpuMs: Record<string, number> = {};
  for (let round = 0; round < ROUNDS; round++) {
    const measured: Partial<ThroughputRound> = {};
    await inTurn(round, async () => {
      const before = await appliedEvents();
      const started = performance.now();
      const { cpuMs: appendCpu } = await stackCpuDuring(stack, appendSessions);
      measured.appendedMs = performance.now() - started;
      for (const [part, ms] of Object.entries(appendCpu)) cpuMs[part] = (cpuMs[part] ?? 0) + ms;
      await withDeadline(
        (async () => {
          while ((await appliedEvents()) < before + eventsPerRound) {
            ctx.signal.throwIfAborted();
            alive();
            await sleep(2);
          }
        })(),
        90_000,
        `projecting ${eventsPerRound} events`,
      );
      measured.projectedMs = performance.now() - started;
    }, async () => {
      measured.pgMs = await pgInsert.throughput(load.total, load.concurrency);
      measured.kafkaMs = await kafka.throughput(load.total, load.concurrency);
    });
    const r = measured as ThroughputRound;
    rounds.push(r);
    ctx.log(`  round ${round + 1}: appends ${rate(eventsPerRound, r.appendedMs).toFixed(0)}/s against INSERT ${rate(load.total, r.pgMs).toFixed(0)}/s (${(rate(eventsPerRound, r.appendedMs) / rate(load.total, r.pgMs)).toFixed(2)}x)`);
  }
  const totalEvents = eventsPerRound * ROUNDS;
  const cpuPerEventUs = Object.fromEntries(Object.entries(cpuMs).map(([part, ms]) => [part, (ms / totalEvents) * 1000]));
  ctx.log(`  CPU per event while appending: ${Object.entries(cpuPerEventUs).map(([part, us]) => `${part} ${us.toFixed(0)} µs`).join(', ')}`);
  alive();

  const sum = (pick: (r: ThroughputRound) => number) => rounds.reduce((a, r) => a + pick(r), 0);
  const baselineOps = load.total * ROUNDS;
  return rows({
    latency: summarize(totals),
    appendLatency: summarize(appends),
    quarryPerSecond: rate(totalEvents, sum((r) => r.projectedMs)),
    appendPerSecond: rate(totalEvents, sum((r) => r.appendedMs)),
    projectedMs: sum((r) => r.projectedMs),
    appendedMs: sum((r) => r.appendedMs),
    totalEvents,
    load,
    pg: { latency: summarize(pgLatencies), perSecond: rate(baselineOps, sum((r) => r.pgMs)), throughputMs: sum((r) => r.pgMs) },
    kafka: { latency: summarize(kafkaLatencies), perSecond: rate(baselineOps, sum((r) => r.kafkaMs)), throughputMs: sum((r) => r.kafkaMs) },
    cpuPerEventUs,
    appendRatios: rounds.map((r) => rate(eventsPerRound, r.appendedMs) / rate(load.total, r.pgMs)),
  });
}

/** The samples of one round: `total` split as evenly as rounds allow. */
function shareOf(total: number, round: number): number {
  return Math.floor(total / ROUNDS) + (round < total % ROUNDS ? 1 : 0);
}

/**
 * Runs the bench's part and the baselines' part of one round, Quarry first in even rounds and the
 * baselines first in odd ones: the broker's and the nodes' JIT warm up during the run, and neither
 * side should always get the warmer machine.
 */
async function inTurn(round: number, quarry: () => Promise<void>, baselines: () => Promise<void>): Promise<void> {
  const [first, second] = round % 2 === 0 ? [quarry, baselines] : [baselines, quarry];
  await first();
  await second();
}

function rate(count: number, ms: number): number {
  return (count / ms) * 1000;
}

interface ThroughputRound {
  appendedMs: number;
  projectedMs: number;
  pgMs: number;
  kafkaMs: number;
}

interface Measured {
  latency: LatencySummary;
  appendLatency: LatencySummary;
  quarryPerSecond: number;
  appendPerSecond: number;
  projectedMs: number;
  appendedMs: number;
  totalEvents: number;
  load: LoadSettings;
  pg: LoadResult;
  kafka: LoadResult;
  /** CPU per event while the appends ran, by part of the pipeline (µs). */
  cpuPerEventUs: Record<string, number>;
  /** Append throughput over INSERT's, round by round. */
  appendRatios: number[];
}

function rows(m: Measured): BenchRow[] {
  const PG = 'baseline: pg insert';
  const KAFKA = 'baseline: kafka round trip';
  const ref = (name: string, metric: string, value: number, unit: string) => ({ name, metric, value, unit });
  const pgP50 = ref(PG, 'latency p50', m.pg.latency.p50, 'ms');
  const pgP99 = ref(PG, 'latency p99', m.pg.latency.p99, 'ms');
  const pgRate = ref(PG, 'throughput', m.pg.perSecond, 'rows/s');
  const kP50 = ref(KAFKA, 'latency p50', m.kafka.latency.p50, 'ms');
  const kP99 = ref(KAFKA, 'latency p99', m.kafka.latency.p99, 'ms');
  const kRate = ref(KAFKA, 'throughput', m.kafka.perSecond, 'msgs/s');
  const latencyDetail = { samples: m.latency.count, warmup: m.load.warmup, min: m.latency.min, max: m.latency.max, seenBy: 'LISTEN on a trigger of the bench, then one read' };
  const throughputDetail = {
    events: m.totalEvents,
    appenders: m.load.concurrency,
    eventsPerSession: EVENTS_PER_SESSION,
    rounds: ROUNDS,
    appendedMs: m.appendedMs,
    projectedMs: m.projectedMs,
    appendRatioByRound: m.appendRatios,
  };
  const cpuTotal = Object.values(m.cpuPerEventUs).reduce((a, b) => a + b, 0);
  return [
    { name: NAME, metric: 'CPU per event while appending', value: cpuTotal, unit: 'µs', detail: m.cpuPerEventUs },
    ...Object.entries(m.cpuPerEventUs).map(([part, us]) => ({ name: NAME, metric: `  of which ${part}`, value: us, unit: 'µs' })),
    { name: NAME, metric: 'latency p50', value: m.latency.p50, unit: 'ms', baseline: kP50, detail: latencyDetail },
    { name: NAME, metric: 'latency p50', value: m.latency.p50, unit: 'ms', baseline: pgP50 },
    { name: NAME, metric: 'latency p99', value: m.latency.p99, unit: 'ms', baseline: kP99 },
    { name: NAME, metric: 'latency p99', value: m.latency.p99, unit: 'ms', baseline: pgP99 },
    { name: NAME, metric: 'latency mean', value: m.latency.mean, unit: 'ms' },
    { name: NAME, metric: 'append commit p50', value: m.appendLatency.p50, unit: 'ms', baseline: pgP50, detail: { ...m.appendLatency } },
    { name: NAME, metric: 'sustained throughput', value: m.quarryPerSecond, unit: 'events/s', baseline: kRate, detail: throughputDetail },
    { name: NAME, metric: 'sustained throughput', value: m.quarryPerSecond, unit: 'events/s', baseline: pgRate },
    { name: NAME, metric: 'append throughput', value: m.appendPerSecond, unit: 'events/s', baseline: pgRate },
    { ...pgP50, detail: { ...m.pg.latency } },
    pgP99,
    ref(PG, 'latency mean', m.pg.latency.mean, 'ms'),
    { ...pgRate, detail: { rows: m.load.total * ROUNDS, rounds: ROUNDS, connections: m.load.concurrency, ms: m.pg.throughputMs } },
    { ...kP50, detail: { ...m.kafka.latency } },
    kP99,
    ref(KAFKA, 'latency mean', m.kafka.latency.mean, 'ms'),
    { ...kRate, detail: { messages: m.load.total * ROUNDS, rounds: ROUNDS, lanes: m.load.concurrency, partitions: PARTITIONS, ms: m.kafka.throughputMs } },
  ];
}
