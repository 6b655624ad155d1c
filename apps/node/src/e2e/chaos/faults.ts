import { Client } from 'pg';
import { getJson, settlesWithin, testEnv, waitFor, type Cluster, type NodeProcess, type PrivateBroker, type TestDatabase } from '@quarry/testing';
import { between, shuffled } from '@quarry/testing';
import type { NodeSupervisor } from './supervisor';
import { FAULT_KINDS, type FaultKind, type FaultRecord } from './verdict';

/** A SIGTERMed node that has not stopped by then is SIGKILLed (and the fault says so). */
const DRAIN_DEADLINE_MS = 20_000;

/** One fault as the schedule deals it, before it happens. */
export interface PlannedFault {
  kind: FaultKind;
  /** The node of a node fault. */
  target: string;
  /** SIGKILL: start the node again only once the cluster declared it down (else at once, so its next incarnation finds it). */
  restartWhenDown: boolean;
  /** How long the broker stays dead. */
  outageMs: number;
  /** The pause after the cluster is healthy again, before the next fault. */
  pauseAfterMs: number;
}

/** A fault that happened, with what followed it. */
export interface DealtFault extends FaultRecord {
  /** Anything that did not go as a fault of its kind should (not declared down, no exit 75, ...). */
  notes: string[];
  /** From the fault to the cluster healthy again; null when it was not within the deadline. */
  healthyAfterMs: number | null;
}

/**
 * The seeded schedule: rounds, each the five kinds in a seeded order with seeded targets and
 * pauses, so every kind runs once per round.
 */
export function* faultRounds(random: () => number, nodeIds: readonly string[]): Generator<PlannedFault[]> {
  for (;;) {
    yield shuffled(random, FAULT_KINDS).map((kind) => ({
      kind,
      target: nodeIds[between(random, 0, nodeIds.length - 1)],
      restartWhenDown: random() < 0.5,
      outageMs: between(random, 2000, 6000),
      pauseAfterMs: between(random, 2000, 5000),
    }));
  }
}

export interface FaultContext {
  cluster: Cluster;
  supervisor: NodeSupervisor;
  broker: PrivateBroker;
  /** The cluster's own database (event store, projections). */
  db: TestDatabase;
  downAfterMs: number;
  log: (line: string) => void;
}

/** Deals one fault and waits (with a deadline) for the cluster to be healthy again. */
export async function dealFault(ctx: FaultContext, planned: PlannedFault): Promise<DealtFault> {
  const notes: string[] = [];
  const note = (line: string) => {
    notes.push(line);
    ctx.log(`  ${line}`);
  };
  const record = await DEAL[planned.kind](ctx, planned, note);
  const healthyAfterMs = await waitHealthy(ctx).then(
    () => Date.now() - record.at,
    (error: Error) => {
      note(error.message);
      return null;
    },
  );
  ctx.log(`  healthy again ${healthyAfterMs === null ? 'NOT within the deadline' : `${healthyAfterMs} ms after the fault`}`);
  return { ...record, notes, healthyAfterMs };
}

type Deal = (ctx: FaultContext, planned: PlannedFault, note: (line: string) => void) => Promise<FaultRecord>;

const DEAL: Record<FaultKind, Deal> = {
  async sigkill(ctx, { target, restartWhenDown }, note) {
    const node = ctx.cluster.node(target);
    const incarnation = await incarnationOf(node);
    ctx.supervisor.expectExit(target, 'signaled');
    const at = Date.now();
    await node.sigkill();
    if (restartWhenDown) await untilDeclaredDown(ctx, `${target} to be declared down`, incarnation, note);
    await ctx.supervisor.startAgain(target);
    return { kind: 'sigkill', nodeId: target, incarnation, at };
  },

  async sigstop(ctx, { target }, note) {
    const node = ctx.cluster.node(target);
    const incarnation = await incarnationOf(node);
    ctx.supervisor.expectExit(target, 'declared-down');
    const at = Date.now();
    process.kill(node.process.pid, 'SIGSTOP');
    let down = false;
    try {
      down = await untilDeclaredDown(ctx, `${target} (stopped) to be declared down`, incarnation, note);
    } finally {
      process.kill(node.process.pid, 'SIGCONT');
    }
    if (!down) {
      ctx.supervisor.unexpectExit(target);
      return { kind: 'sigstop', nodeId: target, incarnation, at };
    }
    // Declared down while alive, it should stop itself (exit 75); a supervisor then starts it again.
    const exit = await settlesWithin(node.process.exited, 30_000, `${target}, declared down, to stop itself`).catch((error: Error) => {
      note(`${error.message}: SIGKILL`);
      ctx.supervisor.expectExit(target, 'signaled');
      return node.sigkill();
    });
    ctx.log(`  ${target} exited ${JSON.stringify(exit)} after SIGCONT`);
    await ctx.supervisor.startAgain(target);
    return { kind: 'sigstop', nodeId: target, incarnation, at };
  },

  async sigterm(ctx, { target }, note) {
    const node = ctx.cluster.node(target);
    const incarnation = await incarnationOf(node);
    ctx.supervisor.expectExit(target, 'signaled');
    const at = Date.now();
    await node.process.stop(DRAIN_DEADLINE_MS);
    const { code, signal } = await node.process.exited;
    if (signal === 'SIGKILL') note(`${target} had not stopped ${DRAIN_DEADLINE_MS / 1000} s after SIGTERM: SIGKILLed. Its last lines:\n${node.process.output(12)}`);
    else if (code !== 0) note(`${target} exited ${code} on SIGTERM`);
    await ctx.supervisor.startAgain(target);
    return { kind: 'sigterm', nodeId: target, incarnation, at };
  },

  async broker(ctx, { outageMs }) {
    const at = Date.now();
    await ctx.broker.kill();
    // The outage is the workload's timing, not a wait for a condition.
    await new Promise((resolve) => setTimeout(resolve, outageMs));
    await ctx.broker.startAgain();
    return { kind: 'broker', at };
  },

  async 'db-backends'(ctx) {
    const admin = new Client({ connectionString: testEnv().adminUrl });
    await admin.connect();
    try {
      const at = Date.now();
      const { rows } = await admin.query<{ n: number }>('SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [ctx.db.name]);
      ctx.log(`  terminated ${rows[0].n} backends of ${ctx.db.name}`);
      return { kind: 'db-backends', at };
    } finally {
      await admin.end();
    }
  },
};

async function incarnationOf(node: NodeProcess): Promise<string> {
  return waitFor(`${node.options.nodeId} to name its incarnation`, async () => (await getJson<{ incarnation: string }>(`${node.url}/health`)).body.incarnation, { timeoutMs: 20_000 });
}

/** Waits for the NodeDown of `incarnation`; a detector that never says it is noted, not thrown. */
async function untilDeclaredDown(ctx: { db: TestDatabase; downAfterMs: number }, what: string, incarnation: string, note: (line: string) => void): Promise<boolean> {
  return waitFor(what, () => declaredDown(ctx.db, incarnation), { timeoutMs: 4 * ctx.downAfterMs + 10_000, intervalMs: 100 }).then(
    () => true,
    (error: Error) => (note(error.message), false),
  );
}

async function declaredDown(db: TestDatabase, incarnation: string): Promise<boolean> {
  const { rows } = await db.pool.query(`SELECT 1 FROM events WHERE type = 'NodeDown' AND payload->>'incarnation' = $1`, [incarnation]);
  return rows.length > 0;
}

/**
 * Healthy: every node process runs, names itself on /health and is ready (database and broker
 * answer), and the membership view lists each one's current incarnation UP.
 */
export async function waitHealthy(ctx: Pick<FaultContext, 'cluster'>, timeoutMs = 90_000): Promise<void> {
  await waitFor(
    'the cluster to be healthy again',
    async () => {
      const incarnations: string[] = [];
      for (const node of ctx.cluster.nodes) {
        if (!node.process.running) return false;
        const health = await getJson<{ node: string; incarnation: string }>(`${node.url}/health`);
        if (health.status !== 200 || health.body.node !== node.options.nodeId) return false;
        if ((await getJson(`${node.url}/ready`)).status !== 200) return false;
        incarnations.push(health.body.incarnation);
      }
      const { nodes } = (await getJson<{ nodes: { incarnation: string; state: string }[] }>(`${ctx.cluster.nodes[0].url}/cluster/nodes`)).body;
      return incarnations.every((i) => nodes.some((n) => n.incarnation === i && n.state === 'UP'));
    },
    { timeoutMs, intervalMs: 250 },
  );
}
