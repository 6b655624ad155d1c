import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMigrations } from '@quarry/eventstore';
import { ALL_MIGRATIONS } from '@quarry/node-runtime';
import { loadConfig } from '@quarry/platform';
import type { Pool } from 'pg';
import { startCluster, type BenchCluster } from './lib/cluster';
import type { BaselineRef, BenchContext, BenchRow } from './lib/context';
import type { HttpAnswer, HttpRequest } from './lib/http-client';
import { scratchPool } from './lib/stack-processes';
import { FINISHED_STATUSES, inMemoryRowsFrom, lensConf, lensQueryFrom, openSession, queryHandleFrom, queryStatusRequest, resultSetRequest, submitQueryRequest, type OpenedSession } from './lib/lens-api';
import type { QuarryNode } from './lib/quarry-node';
import { sleep, summarize, type LatencySummary } from './lib/stats';

/**
 * Failover on a cluster of three real node processes (L1, L2, L3) behind tools/stack/balancer.mjs,
 * with the DEFAULT failure detection (QUARRY_HEARTBEAT_MS, QUARRY_NODE_DOWN_AFTER_MS,
 * QUARRY_NODE_PROBE_TIMEOUT_MS, QUARRY_DRAIN_GRACE_MS are not set by the bench).
 *
 * 1. SIGKILL rounds: a handful of sleeping queries through the balancer, all running, spread over
 *    the nodes; one node that runs some is SIGKILLed; for each of its queries, the `occurred_at` of
 *    its `QueryLaunched` with attempt 2 minus the kill time is the failover time. The node is
 *    started again (same id and port) once its queries run elsewhere, and every query of the round
 *    must end SUCCESSFUL, once, with its own value.
 * 2. Rolling restart under load: closed-loop clients submit through the balancer (with a request
 *    id, retried on errors with the same id) while each node in turn gets SIGTERM (drain), exits,
 *    is started again and is healthy. Nothing accepted may be lost or run twice.
 */

const NAME = 'failover';
/**
 * The runner's budget for this bench (it aborts a bench past it). Ten rounds each wait for a node
 * to be declared down (~3 s) and to start again (~3-7 s on a busy 2-core machine), then three
 * more restarts: over the runner's 150 s default when the machine is busy.
 */
export const timeoutMs = 270_000;
const PARTITIONS = 3;
const TERMINAL = ['QuerySucceeded', 'QueryFailed', 'QueryCanceled'];
const REQUEST_ID_KEY = 'quarry.query.request.id';
/** The failover goal of issue 9. */
const GOAL_P99_MS = 5_000;

interface Settings {
  /** Part 1: SIGKILL rounds, sleeping queries per node and round, their pg_sleep. */
  rounds: number;
  queriesPerNode: number;
  sleepSeconds: number;
  maxRunningPerNode: number;
  /** Part 2: client lanes, every n-th query sleeps 1 s, load before the first and after the last restart. */
  lanes: number;
  sleepEvery: number;
  loadBeforeMs: number;
  loadAfterMs: number;
  pollIntervalMs: number;
  /** After the load stops, how long every accepted query has to reach a terminal event. */
  terminalDeadlineMs: number;
}

function settings(quick: boolean): Settings {
  const common = { queriesPerNode: 2, sleepSeconds: 2, maxRunningPerNode: 8, lanes: 4, sleepEvery: 4, pollIntervalMs: 50, terminalDeadlineMs: 30_000 };
  return quick ? { ...common, rounds: 3, loadBeforeMs: 1_000, loadAfterMs: 1_000 } : { ...common, rounds: 10, loadBeforeMs: 2_000, loadAfterMs: 2_000 };
}

/** Milliseconds since the epoch with a fraction, on the clock the nodes stamp events with (same machine). */
const wallClock = () => performance.timeOrigin + performance.now();

interface EventRow {
  stream_id: string;
  type: string;
  payload: Record<string, unknown>;
  occurred_at: Date;
  node_id: string | null;
  stream_version: number;
}

/** Each query's events in stream order, by handle. */
async function eventsOf(pool: Pool, handles: string[]): Promise<Map<string, EventRow[]>> {
  const { rows } = await pool.query<EventRow>(
    'SELECT stream_id, type, payload, occurred_at, node_id, stream_version FROM events WHERE stream_id = ANY($1) ORDER BY stream_id, stream_version',
    [handles.map((h) => `query-${h}`)],
  );
  const byHandle = new Map<string, EventRow[]>(handles.map((h) => [h, []]));
  for (const row of rows) byHandle.get(row.stream_id.slice('query-'.length))?.push(row);
  return byHandle;
}

const launchOf = (events: EventRow[], attempt: number) => events.find((e) => e.type === 'QueryLaunched' && Number(e.payload.attempt) === attempt);
const terminalsOf = (events: EventRow[]) => events.filter((e) => TERMINAL.includes(e.type));

/**
 * The cluster-wide leaderships (session advisory locks of LOCK_NAMES) an incarnation's database
 * sessions hold; transaction-scoped advisory locks caught in passing are left out.
 */
async function leaderLocksOf(pool: Pool, incarnation: string): Promise<string[]> {
  const { rows } = await pool.query<{ key: string }>(
    `SELECT ((l.classid::bigint << 32) | l.objid::bigint)::text AS key
     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted AND a.application_name = $1 AND a.datname = current_database()`,
    [`quarry ${incarnation}`],
  );
  return rows.map((r) => r.key).filter((key) => key in LOCK_NAMES).sort();
}

/** Known advisory-lock keys (libs/*: RELAY_LOCK, …) by name, for the JSON. */
const LOCK_NAMES: Record<string, string> = {
  '7041998002': 'outbox relay',
  '7041998003': 'session expiry',
  '7041998004': 'query retention',
  '7041998007': 'lost results sweep',
  '7041998011': 'query takeover reconciliation',
};

async function incarnationOf(node: QuarryNode): Promise<string> {
  const res = await fetch(`${node.url}/health`, { signal: AbortSignal.timeout(2_000) });
  const body = (await res.json()) as { node?: string; incarnation?: string };
  if (body.node !== node.nodeId || !body.incarnation) throw new Error(`${node.url}/health answered ${JSON.stringify(body)}`);
  return body.incarnation;
}

/** One pino line, short: its time, message and error (`time msg: error`); anything else cut to 160 characters. */
function brief(line: string): string {
  try {
    const j = JSON.parse(line) as { time?: string; msg?: string; step?: string; ms?: number; results?: number; queries?: unknown; err?: { type?: string; message?: string } };
    const counts = [j.results !== undefined && `${j.results} results`, j.queries !== undefined && `queries ${JSON.stringify(j.queries)}`].filter(Boolean).join(', ');
    return `${j.time} ${j.msg}${j.step ? ` (${j.step}, ${j.ms} ms)` : ''}${counts ? ` (${counts})` : ''}${j.err ? `: ${j.err.type ?? ''} ${String(j.err.message).slice(0, 120)}` : ''}`;
  } catch {
    return line.slice(0, 160);
  }
}

/** What a node logs on its way up (run-node.ts, membership), in order. */
const START_MILESTONES = ['node starting', 'schema migrated', 'projections running', 'node joined the cluster', 'node ready'];

/** When the node logged each start milestone, in ms after `from` (wall clock). */
function startTimeline(node: QuarryNode, from: number): Record<string, number> {
  const timeline: Record<string, number> = {};
  for (const line of node.output(400).split('\n')) {
    try {
      const j = JSON.parse(line) as { time?: string; msg?: string };
      if (j.msg && START_MILESTONES.includes(j.msg) && j.time && !(j.msg in timeline)) timeline[j.msg] = Math.round(Date.parse(j.time) - from);
    } catch {
      // not pino JSON
    }
  }
  return timeline;
}

const timeline = (t: Record<string, number>) =>
  Object.entries(t)
    .map(([msg, ms]) => `${msg} +${(ms / 1000).toFixed(1)} s`)
    .join(', ');

/** Every node process that has exited, so that its output can still be read at the end. */
const retired: QuarryNode[] = [];

/** Starts a node again (same id and port), puts it in the cluster's list, and waits until it serves the API. */
async function restartNode(ctx: BenchContext, cluster: BenchCluster, index: number): Promise<{ node: QuarryNode; incarnation: string; startMs: number }> {
  const t0 = performance.now();
  retired.push(cluster.nodes[index]);
  const node = await cluster.nodes[index].restart(ctx);
  cluster.nodes[index] = node;
  const deadline = Date.now() + 30_000;
  for (;;) {
    ctx.signal.throwIfAborted();
    if (!node.running) throw new Error(`${node.nodeId} exited while starting again:\n${node.output()}`);
    const ok = await fetch(`${node.url}/lensapi/session`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${node.nodeId} does not serve /lensapi/session after a restart:\n${node.output()}`);
    await sleep(50);
  }
  return { node, incarnation: await incarnationOf(node), startMs: performance.now() - t0 };
}

async function waitUntil<T>(ctx: BenchContext, what: string, timeoutMs: number, intervalMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    ctx.signal.throwIfAborted();
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** The first value of the only row of an in-memory result, as a number (Lens sends ints as numbers, bigints as strings). */
function firstValue(answer: HttpAnswer): number {
  const rows = inMemoryRowsFrom(answer);
  if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}: ${answer.body.slice(0, 200)}`);
  return Number(rows[0][0]);
}

// ---------------------------------------------------------------------------------------------
// Part 1: SIGKILL rounds
// ---------------------------------------------------------------------------------------------

interface Orphan {
  handle: string;
  k: number;
  /** occurred_at − kill time, ms. */
  failoverMs: number;
  orphanedMs: number;
  requeuedMs: number;
  runningMs: number;
  reason: unknown;
  takenOverBy: unknown;
  executor2: unknown;
}

interface Round {
  round: number;
  victim: string;
  incarnation: string;
  /** Cluster-wide leader locks the victim's sessions held just before the kill. */
  leaderLocks: string[];
  killedAt: string;
  queries: number;
  runningOn: Record<string, number>;
  /** NodeDown of the victim: when (− kill time), by whom, the last heartbeat it saw (− kill time), its cause. */
  nodeDownMs?: number;
  detectedBy?: unknown;
  lastHeartbeatBeforeKillMs?: number;
  cause?: unknown;
  orphans: Orphan[];
  restartMs: number;
  /** The restarted node's start milestones (its log), ms after the kill. */
  restartTimeline: Record<string, number>;
  newIncarnation: string;
  /** From the kill until every query of the round was SUCCESSFUL and its value read. */
  roundMs: number;
}

interface KillOutcome {
  rounds: Round[];
  handles: string[];
  expected: Map<string, number>;
  killed: Set<string>;
  duplicates: { handle: string; terminals: string[] }[];
  wrongValues: { handle: string; expected: number; got: unknown }[];
  anomalies: string[];
}

async function sigkillRounds(ctx: BenchContext, s: Settings, cluster: BenchCluster, pool: Pool, session: OpenedSession): Promise<KillOutcome> {
  const { viaBalancer } = cluster;
  const rounds: Round[] = [];
  const allHandles: string[] = [];
  const expected = new Map<string, number>();
  const killed = new Set<string>();
  const anomalies: string[] = [];
  const wrongValues: KillOutcome['wrongValues'] = [];
  const perRound = s.queriesPerNode * cluster.nodes.length;

  for (let round = 0; round < s.rounds; round++) {
    cluster.alive();
    // Submitted one by one through the balancer (round robin): each lands on a node with free
    // slots and nobody waiting, which launches it itself, so every node runs queriesPerNode.
    const handles: string[] = [];
    for (let j = 0; j < perRound; j++) {
      const k = 1000 * (round + 1) + j;
      const handle = queryHandleFrom(await viaBalancer.request(submitQueryRequest(session, `SELECT ${k} AS k, pg_sleep(${s.sleepSeconds})`, 'EXECUTE')));
      handles.push(handle);
      expected.set(handle, k);
    }
    allHandles.push(...handles);
    const executors = await waitUntil(ctx, `the ${perRound} queries of round ${round + 1} to run`, 20_000, 25, async () => {
      const events = await eventsOf(pool, handles);
      const on = new Map<string, string>();
      for (const [handle, list] of events) {
        if (!list.some((e) => e.type === 'QueryRunning')) return undefined;
        on.set(handle, String(launchOf(list, 1)?.payload.executorNodeId));
      }
      return on;
    });
    const runningOn: Record<string, number> = {};
    for (const node of executors.values()) runningOn[node] = (runningOn[node] ?? 0) + 1;
    // The victims rotate; one that runs nothing this round is passed over for the busiest.
    let victimIndex = round % cluster.nodes.length;
    if (!runningOn[cluster.nodes[victimIndex].nodeId]) {
      victimIndex = cluster.nodes.map((n, i) => [runningOn[n.nodeId] ?? 0, i]).sort((a, b) => b[0] - a[0])[0][1];
    }
    const victim = cluster.nodes[victimIndex];
    const incarnation = await incarnationOf(victim);
    const leaderLocks = await leaderLocksOf(pool, incarnation);
    const theirs = handles.filter((h) => executors.get(h) === victim.nodeId);
    const killedAt = await victim.sigkill();
    killed.add(incarnation);
    ctx.log(`round ${round + 1}/${s.rounds}: SIGKILL ${victim.nodeId} (${incarnation.slice(0, 8)}, running ${theirs.length} of ${perRound}${leaderLocks.length ? `, leader of ${leaderLocks.map((k) => LOCK_NAMES[k] ?? k).join(', ')}` : ''})`);

    // Every orphan launched again (attempt 2) elsewhere.
    const relaunched = await waitUntil(ctx, `the ${theirs.length} queries of ${victim.nodeId} to run elsewhere`, 30_000, 20, async () => {
      const events = await eventsOf(pool, theirs);
      return [...events.values()].every((list) => launchOf(list, 2)) ? events : undefined;
    });
    // Started again (same id and port) only now, so the new incarnation cannot end the old one first.
    const restarted = await restartNode(ctx, cluster, victimIndex);

    // Every query of the round SUCCESSFUL, once.
    await waitUntil(ctx, `every query of round ${round + 1} to succeed`, 30_000, 50, async () => {
      const events = await eventsOf(pool, handles);
      for (const [handle, list] of events) {
        const ends = terminalsOf(list);
        if (ends.some((e) => e.type !== 'QuerySucceeded')) throw new Error(`query ${handle} (k=${expected.get(handle)}) ended ${ends.map((e) => e.type).join(', ')}`);
        if (ends.length === 0) return undefined;
      }
      return true;
    });
    // Its status and value, read through the balancer as a client would, now: the next round may
    // kill the node holding a result in memory (its result is then gone, as it should be).
    for (const handle of handles) {
      const status = lensQueryFrom(await viaBalancer.request(queryStatusRequest(session, handle))).status.status;
      if (status !== 'SUCCESSFUL') throw new Error(`query ${handle} has its QuerySucceeded but reads ${status}`);
      const answer = await viaBalancer.requestFollowing(resultSetRequest(session, handle));
      let got: unknown;
      try {
        got = firstValue(answer);
      } catch (error) {
        got = (error as Error).message;
      }
      const want = expected.get(handle) ?? Number.NaN;
      if (got !== want) wrongValues.push({ handle, expected: want, got });
    }
    const roundMs = wallClock() - killedAt;

    const { rows: downs } = await pool.query<EventRow>(`SELECT type, payload, occurred_at FROM events WHERE type = 'NodeDown' AND payload->>'incarnation' = $1`, [incarnation]);
    const down = downs[0];
    if (downs.length !== 1) anomalies.push(`round ${round + 1}: ${downs.length} NodeDown events for the killed ${victim.nodeId} ${incarnation}`);
    const orphans: Orphan[] = theirs.map((handle) => {
      const list = relaunched.get(handle) ?? [];
      const at = (type: string) => {
        const e = list.find((x) => x.type === type);
        return e ? e.occurred_at.getTime() - killedAt : Number.NaN;
      };
      const launched2 = launchOf(list, 2);
      if (!launched2) throw new Error(`query ${handle} has no QueryLaunched with attempt 2`); // waited for above
      const orphaned = list.find((e) => e.type === 'QueryAttemptOrphaned');
      const running2 = list.find((e) => e.type === 'QueryRunning' && e.stream_version > launched2.stream_version);
      return {
        handle,
        k: expected.get(handle) ?? Number.NaN,
        failoverMs: launched2.occurred_at.getTime() - killedAt,
        orphanedMs: at('QueryAttemptOrphaned'),
        requeuedMs: at('QueryRequeued'),
        runningMs: running2 ? running2.occurred_at.getTime() - killedAt : Number.NaN,
        reason: orphaned?.payload.reason,
        takenOverBy: orphaned?.payload.takenOverBy,
        executor2: launched2.payload.executorNodeId,
      };
    });
    const r: Round = {
      round: round + 1,
      victim: victim.nodeId,
      incarnation,
      leaderLocks: leaderLocks.map((k) => LOCK_NAMES[k] ?? k),
      killedAt: new Date(killedAt).toISOString(),
      queries: handles.length,
      runningOn,
      nodeDownMs: down ? down.occurred_at.getTime() - killedAt : undefined,
      detectedBy: down?.payload.detectedBy,
      lastHeartbeatBeforeKillMs: down ? killedAt - Date.parse(String(down.payload.lastHeartbeatAt)) : undefined,
      cause: down?.payload.cause,
      orphans,
      restartMs: restarted.startMs,
      restartTimeline: startTimeline(restarted.node, killedAt),
      newIncarnation: restarted.incarnation,
      roundMs,
    };
    rounds.push(r);
    for (const o of orphans) {
      if (o.reason !== 'node-down') anomalies.push(`round ${r.round}: query ${o.handle} orphaned with reason ${String(o.reason)}, not node-down`);
      if (o.executor2 === victim.nodeId) anomalies.push(`round ${r.round}: query ${o.handle} attempt 2 ran on ${String(o.executor2)}, the killed node's id`);
    }
    ctx.log(
      `  NodeDown +${r.nodeDownMs?.toFixed(0)} ms (by ${String(r.detectedBy)}, last beat ${r.lastHeartbeatBeforeKillMs?.toFixed(0)} ms before the kill); ` +
        `orphans RUNNING elsewhere +${orphans.map((o) => o.failoverMs.toFixed(0)).join(', +')} ms; restart ${(r.restartMs / 1000).toFixed(1)} s (after the kill: ${timeline(r.restartTimeline)}); round ${(roundMs / 1000).toFixed(1)} s`,
    );
  }

  // Every query of every round: one terminal event, the right value, and attempts only where a kill explains them.
  const events = await eventsOf(pool, allHandles);
  const duplicates: KillOutcome['duplicates'] = [];
  const orphanHandles = new Set(rounds.flatMap((r) => r.orphans.map((o) => o.handle)));
  for (const handle of allHandles) {
    const list = events.get(handle) ?? [];
    const ends = terminalsOf(list);
    if (ends.length > 1) duplicates.push({ handle, terminals: ends.map((e) => `${e.type}@${e.stream_version}`) });
    const attempts = list.filter((e) => e.type === 'QueryLaunched').map((e) => Number(e.payload.attempt));
    const want = orphanHandles.has(handle) ? [1, 2] : [1];
    if (attempts.join() !== want.join()) anomalies.push(`query ${handle} (k=${expected.get(handle)}) launched as attempts [${attempts.join()}], expected [${want.join()}]`);
    const orphaned = list.findIndex((e) => e.type === 'QueryAttemptOrphaned');
    if (orphaned >= 0) {
      const stale = list.slice(orphaned + 1).filter((e) => Number(e.payload.attempt) === 1);
      if (stale.length) anomalies.push(`query ${handle}: attempt 1 wrote ${stale.map((e) => e.type).join(', ')} after it was orphaned`);
    }
  }
  return { rounds, handles: allHandles, expected, killed, duplicates, wrongValues, anomalies };
}

// ---------------------------------------------------------------------------------------------
// Part 2: rolling restart under load
// ---------------------------------------------------------------------------------------------

type Kind = 'submit' | 'status' | 'result';

interface Submitted {
  k: number;
  requestId: string;
  lane: number;
  /** Every handle a submit of this request id answered (more than one would be a duplicate submit). */
  handles: Set<string>;
  acceptedAt?: number;
  /** The status the client last read, and the value it read if SUCCESSFUL. */
  status?: string;
  value?: number;
  /** Why the client stopped following it before an end (its own deadline ran out). */
  gaveUp?: string;
}

interface ClientStats {
  requests: Record<Kind, number>;
  /** Requests that failed (no answer, or not 200) and were retried with the same request. */
  failed: Record<Kind, number>;
  /** Each failure: when (wall clock), which call, what. */
  log: { at: number; kind: Kind; failure: string }[];
  /** What the failed answers said (ids blanked), with counts. */
  bodies: Record<string, number>;
}

const OP_DEADLINE_MS = 20_000;
const RETRY_PAUSE_MS = 100;
const REQUEST_TIMEOUT_MS = 5_000;

interface RollStep {
  node: string;
  oldIncarnation: string;
  newIncarnation: string;
  /** Wall clock: SIGTERM sent, the process gone, the new one serving. */
  sigtermAt: number;
  exitedAt: number;
  servingAt: number;
  /** SIGTERM until the process exited (the drain and the close). */
  drainMs: number;
  /** SIGTERM until its NodeLeft (occurred_at), if any. */
  nodeLeftMs?: number;
  exit: { code: number | null; signal: string | null };
  /** It did not exit within STOP_AFTER_LEFT_MS of its NodeLeft (or the drain grace + STOP_AFTER_LEFT_MS of SIGTERM) and was SIGKILLed. */
  forcedKill: boolean;
  /** Its last lines when it had to be killed. */
  lastOutput?: string[];
  /** What it logged about stopping (node stopping, drain steps, node stopped), pino JSON. */
  stopLog: string[];
  /** Spawn until /health names it and /lensapi/session answers. */
  startMs: number;
  /** The new process's start milestones (its log), ms after the old one exited. */
  startTimeline: Record<string, number>;
}

/**
 * How long a SIGTERMed node may take to exit after its NodeLeft (all that is left is closing the
 * HTTP server, consumers, pool), or after the drain grace if it never says NodeLeft, before it is
 * SIGKILLed and counted.
 */
const STOP_AFTER_LEFT_MS = 5_000;

interface RollOutcome {
  submitted: Submitted[];
  stats: ClientStats;
  steps: RollStep[];
  rollMs: number;
  loadMs: number;
  accepted: number;
  lost: string[];
  duplicatedTerminal: { handle: string; terminals: string[] }[];
  duplicateSubmits: { requestId: string; handles: string[] }[];
  wrongValues: { handle: string; expected: number; got: unknown }[];
  notTerminalAtLoadEnd: number;
  failedQueries: { handle: string; k: number; status: string }[];
  orphanReasons: Record<string, number>;
  relaunched: number;
  resultsPersisted: number;
  unknownSubmits: string[];
  leftIncarnations: string[];
  oldIncarnations: string[];
}

async function rollingRestart(ctx: BenchContext, s: Settings, cluster: BenchCluster, pool: Pool, drainGraceMs: number): Promise<RollOutcome> {
  const { viaBalancer } = cluster;
  const runId = randomBytes(4).toString('hex');
  const sessions: OpenedSession[] = [];
  for (let lane = 0; lane < s.lanes; lane++) sessions.push(await openSession(viaBalancer, `bench-roll-${lane}`));
  const stats: ClientStats = {
    requests: { submit: 0, status: 0, result: 0 },
    failed: { submit: 0, status: 0, result: 0 },
    log: [],
    bodies: {},
  };
  const blank = (text: string) => text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>').slice(0, 300);
  const submitted: Submitted[] = [];
  let stopping = false;
  let nextK = 1;

  /** One request through the balancer, again (the same request) after a failure, until it answers 200 or the operation's deadline. */
  const call = async (kind: Kind, request: () => HttpRequest, deadline: number): Promise<HttpAnswer> => {
    for (;;) {
      ctx.signal.throwIfAborted();
      stats.requests[kind]++;
      let failure: string;
      try {
        const answer = await viaBalancer.requestFollowing({ ...request(), timeoutMs: REQUEST_TIMEOUT_MS });
        if (answer.status === 200) return answer;
        failure = `HTTP ${answer.status}`;
        const body = `${kind} HTTP ${answer.status}: ${blank(answer.body)}`;
        stats.bodies[body] = (stats.bodies[body] ?? 0) + 1;
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        failure = e.code ?? (/got no answer/.test(e.message) ? 'timeout' : e.message.slice(0, 60));
        const body = `${kind} ${e.code ?? ''} ${blank(e.message)}`;
        stats.bodies[body] = (stats.bodies[body] ?? 0) + 1;
      }
      stats.failed[kind]++;
      stats.log.push({ at: wallClock(), kind, failure });
      if (performance.now() > deadline) throw new Error(`${kind}: still failing (${failure}) after ${OP_DEADLINE_MS} ms`);
      await sleep(RETRY_PAUSE_MS);
    }
  };

  const lane = async (laneIndex: number) => {
    const session = sessions[laneIndex];
    while (!stopping) {
      const k = nextK++;
      const sleeps = k % s.sleepEvery === 0;
      const q: Submitted = { k, requestId: `bench-${runId}-${k}`, lane: laneIndex, handles: new Set() };
      submitted.push(q);
      const query = sleeps ? `SELECT ${k} AS k, pg_sleep(1)` : `SELECT ${k} AS k`;
      const conf = lensConf({ [REQUEST_ID_KEY]: q.requestId });
      const deadline = performance.now() + OP_DEADLINE_MS;
      try {
        // A fresh multipart body each time, same request id.
        const answer = await call('submit', () => submitQueryRequest(session, query, 'EXECUTE', { conf }), deadline);
        const handle = queryHandleFrom(answer);
        q.handles.add(handle);
        q.acceptedAt = wallClock();
        const followUntil = performance.now() + OP_DEADLINE_MS;
        for (;;) {
          const status = lensQueryFrom(await call('status', () => queryStatusRequest(session, handle), followUntil)).status.status;
          q.status = status;
          if (FINISHED_STATUSES.includes(status)) break;
          if (performance.now() > followUntil) throw new Error(`still ${status} after ${OP_DEADLINE_MS} ms`);
          await sleep(s.pollIntervalMs);
        }
        if (q.status === 'SUCCESSFUL') q.value = firstValue(await call('result', () => resultSetRequest(session, handle), performance.now() + OP_DEADLINE_MS));
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        q.gaveUp = (error as Error).message;
      }
    }
  };

  ctx.log(`rolling restart: ${s.lanes} closed-loop clients (SELECT k, every ${s.sleepEvery}th with pg_sleep(1)), ${s.loadBeforeMs / 1000} s of load first`);
  const loadStarted = performance.now();
  const lanes = Promise.all(sessions.map((_, i) => lane(i)));
  lanes.catch(() => undefined);
  await sleep(s.loadBeforeMs);

  const steps: RollStep[] = [];
  const rollStarted = performance.now();
  for (let i = 0; i < cluster.nodes.length; i++) {
    cluster.alive();
    const node = cluster.nodes[i];
    const oldIncarnation = await incarnationOf(node);
    const sigtermAt = wallClock();
    node.sigterm();
    let exited = false;
    void node.exit().then(() => (exited = true));
    let leftAt: number | undefined;
    let forcedKill = false;
    while (!exited) {
      ctx.signal.throwIfAborted();
      await sleep(100);
      if (exited) break;
      if (leftAt === undefined) {
        const { rows } = await pool.query<{ occurred_at: Date }>(`SELECT occurred_at FROM events WHERE type = 'NodeLeft' AND payload->>'incarnation' = $1`, [oldIncarnation]);
        leftAt = rows[0]?.occurred_at.getTime();
      }
      const overdue = leftAt !== undefined ? wallClock() - leftAt > STOP_AFTER_LEFT_MS : wallClock() - sigtermAt > drainGraceMs + STOP_AFTER_LEFT_MS;
      if (overdue && node.running) {
        forcedKill = true;
        await node.sigkill();
      }
    }
    const exitedAt = wallClock();
    const exit = await node.exit();
    const restarted = await restartNode(ctx, cluster, i);
    const servingAt = wallClock();
    const { rows: left } = await pool.query<{ occurred_at: Date }>(`SELECT occurred_at FROM events WHERE type = 'NodeLeft' AND payload->>'incarnation' = $1`, [oldIncarnation]);
    const step: RollStep = {
      node: node.nodeId,
      oldIncarnation,
      newIncarnation: restarted.incarnation,
      sigtermAt,
      exitedAt,
      servingAt,
      drainMs: exitedAt - sigtermAt,
      nodeLeftMs: left[0] ? left[0].occurred_at.getTime() - sigtermAt : undefined,
      exit,
      forcedKill,
      ...(forcedKill ? { lastOutput: node.output(20).split('\n').map(brief) } : {}),
      stopLog: node
        .output(400)
        .split('\n')
        .filter((line) => /"msg":"(node stopping|node stopped|drain[^"]*|[^"]*left the cluster[^"]*)"/i.test(line))
        .map(brief),
      startMs: restarted.startMs,
      startTimeline: startTimeline(restarted.node, exitedAt),
    };
    steps.push(step);
    ctx.log(
      `  ${node.nodeId}: SIGTERM → NodeLeft ${step.nodeLeftMs === undefined ? 'never' : `${(step.nodeLeftMs / 1000).toFixed(1)} s`}, → exit ${(step.drainMs / 1000).toFixed(1)} s ` +
        `(${forcedKill ? `did not exit by itself: SIGKILLed ${STOP_AFTER_LEFT_MS / 1000} s after its NodeLeft` : `code ${exit.code}`}), started again and serving in ${(restarted.startMs / 1000).toFixed(1)} s (after the exit: ${timeline(step.startTimeline)})`,
    );
  }
  const rollMs = performance.now() - rollStarted;
  await sleep(s.loadAfterMs);
  stopping = true;
  await lanes;
  const loadMs = performance.now() - loadStarted;

  // Accepted = the client holds a handle. Each must reach a terminal event by the deadline.
  const acceptedHandles = [...new Set(submitted.flatMap((q) => [...q.handles]))];
  const notTerminalAtLoadEnd = [...(await eventsOf(pool, acceptedHandles)).values()].filter((list) => terminalsOf(list).length === 0).length;
  const settleUntil = performance.now() + s.terminalDeadlineMs;
  let events = await eventsOf(pool, acceptedHandles);
  while (performance.now() < settleUntil && [...events.values()].some((list) => terminalsOf(list).length === 0)) {
    await sleep(250);
    events = await eventsOf(pool, acceptedHandles);
  }
  const lost = acceptedHandles.filter((h) => terminalsOf(events.get(h) ?? []).length === 0);
  const duplicatedTerminal = acceptedHandles
    .map((handle) => ({ handle, terminals: terminalsOf(events.get(handle) ?? []).map((e) => `${e.type}@${e.stream_version}`) }))
    .filter((d) => d.terminals.length > 1);
  const duplicateSubmits: RollOutcome['duplicateSubmits'] = submitted.filter((q) => q.handles.size > 1).map((q) => ({ requestId: q.requestId, handles: [...q.handles] }));
  // Server side: more than one query stream for one request id would be a duplicate the client never saw.
  const { rows: byRequest } = await pool.query<{ request_id: string; handles: string[] }>(
    `SELECT payload->>'clientRequestId' AS request_id, array_agg(substr(stream_id, 7)) AS handles
     FROM events WHERE type = 'QuerySubmitted' AND payload->>'clientRequestId' LIKE $1 GROUP BY 1`,
    [`bench-${runId}-%`],
  );
  for (const row of byRequest) {
    if (row.handles.length > 1 && !duplicateSubmits.some((d) => d.requestId === row.request_id)) duplicateSubmits.push({ requestId: row.request_id, handles: row.handles });
  }
  const known = new Set(acceptedHandles);
  const unknownSubmits = byRequest.flatMap((r) => r.handles).filter((h) => !known.has(h));

  const byHandle = new Map(submitted.flatMap((q) => [...q.handles].map((h) => [h, q] as const)));
  const wrongValues = submitted.filter((q) => q.status === 'SUCCESSFUL' && q.value !== q.k).map((q) => ({ handle: [...q.handles][0], expected: q.k, got: q.value }));
  const failedQueries: RollOutcome['failedQueries'] = [];
  const orphanReasons: Record<string, number> = {};
  let relaunched = 0;
  let resultsPersisted = 0;
  for (const [handle, list] of events) {
    const end = terminalsOf(list)[0];
    if (end && end.type !== 'QuerySucceeded') failedQueries.push({ handle, k: byHandle.get(handle)?.k ?? Number.NaN, status: end.type });
    for (const e of list.filter((x) => x.type === 'QueryAttemptOrphaned')) orphanReasons[String(e.payload.reason)] = (orphanReasons[String(e.payload.reason)] ?? 0) + 1;
    if (launchOf(list, 2)) relaunched++;
    if (list.some((e) => e.type === 'ResultPersisted')) resultsPersisted++;
  }
  const oldIncarnations = steps.map((x) => x.oldIncarnation);
  const { rows: left } = await pool.query<{ incarnation: string }>(`SELECT payload->>'incarnation' AS incarnation FROM events WHERE type = 'NodeLeft' AND payload->>'incarnation' = ANY($1)`, [
    oldIncarnations,
  ]);
  return {
    submitted,
    stats,
    steps,
    rollMs,
    loadMs,
    accepted: acceptedHandles.length,
    lost,
    duplicatedTerminal,
    duplicateSubmits,
    wrongValues,
    notTerminalAtLoadEnd,
    failedQueries,
    orphanReasons,
    relaunched,
    resultsPersisted,
    unknownSubmits,
    leftIncarnations: left.map((r) => r.incarnation),
    oldIncarnations,
  };
}

// ---------------------------------------------------------------------------------------------

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const s = settings(ctx.quick);
  retired.length = 0;
  ctx.log('migrating the bench database, creating a warehouse database');
  await runMigrations(ctx.databaseUrl, ALL_MIGRATIONS);
  const warehouse = await ctx.createDatabase('wh');
  const duckdbDir = mkdtempSync(join(tmpdir(), 'quarry-bench-duck-'));
  ctx.defer(() => rmSync(duckdbDir, { recursive: true, force: true }));
  const resultDir = mkdtempSync(join(tmpdir(), 'quarry-bench-results-'));
  ctx.defer(() => rmSync(resultDir, { recursive: true, force: true }));

  // Detection and drain settings are NOT set: the nodes run with the defaults (or whatever the
  // environment sets, which is then reported as such).
  const env = {
    QUARRY_PG_WAREHOUSE_URL: warehouse.readerUrl,
    QUARRY_DUCKDB_WAREHOUSE: duckdbDir,
    QUARRY_RESULT_DIR: resultDir,
    QUARRY_MAX_RUNNING_QUERIES: String(s.maxRunningPerNode),
    QUARRY_MAX_SESSIONS_PER_USER: '100000',
    // info (lib/quarry-node.ts says warn): a few lines per node event, so that a node's stop
    // (drain steps, NodeLeft, closing) can be followed in the JSON.
    QUARRY_LOG_LEVEL: 'info',
  };
  const effective = loadConfig({ ...process.env, ...env });
  const defaults = loadConfig({});
  const detection = {
    heartbeatMs: effective.membership.heartbeatMs,
    downAfterMs: effective.membership.downAfterMs,
    probeTimeoutMs: effective.membership.probeTimeoutMs,
    drainGraceMs: effective.queries.drainGraceMs,
    takeoverReconcileMs: effective.queries.takeoverReconcileMs,
  };
  const defaultDetection = {
    heartbeatMs: defaults.membership.heartbeatMs,
    downAfterMs: defaults.membership.downAfterMs,
    probeTimeoutMs: defaults.membership.probeTimeoutMs,
    drainGraceMs: defaults.queries.drainGraceMs,
    takeoverReconcileMs: defaults.queries.takeoverReconcileMs,
  };
  const usesDefaults = JSON.stringify(detection) === JSON.stringify(defaultDetection);
  if (!usesDefaults) ctx.log(`note: the environment changes the detection settings: ${JSON.stringify(detection)} (defaults ${JSON.stringify(defaultDetection)})`);

  ctx.log(`starting nodes L1, L2, L3 and the balancer (detection: ${JSON.stringify(detection)})`);
  const cluster = await startCluster(ctx, { partitions: PARTITIONS, env, balancerSockets: 16 });
  const pool = scratchPool(ctx.databaseUrl, { max: 2, applicationName: 'quarry bench failover' });
  ctx.defer(() => pool.end().catch(() => undefined));

  // --- 1. SIGKILL rounds ---
  ctx.log(`SIGKILL: ${s.rounds} rounds of ${s.queriesPerNode * 3} × SELECT k, pg_sleep(${s.sleepSeconds})`);
  const session = await openSession(cluster.viaBalancer, 'bench-failover');
  const kills = await sigkillRounds(ctx, s, cluster, pool, session);

  // --- 2. Rolling restart under load ---
  const roll = await rollingRestart(ctx, s, cluster, pool, detection.drainGraceMs);
  cluster.alive();

  // NodeDown for anything but the killed incarnations is a false NodeDown (a drained node must leave, not be declared down).
  const { rows: downs } = await pool.query<EventRow>(`SELECT type, payload, occurred_at, node_id FROM events WHERE type = 'NodeDown' ORDER BY global_position`);
  const falseDowns = downs
    .filter((d) => !kills.killed.has(String(d.payload.incarnation)))
    .map((d) => ({ ...d.payload, occurredAt: d.occurred_at.toISOString(), writtenBy: d.node_id }));
  // What the nodes logged about late heartbeats (a node silent but answering /health) and errors.
  const nodeLogs = [...retired, ...cluster.nodes].flatMap((n) => n.output(400).split('\n'));
  const lateButAnswering = nodeLogs.filter((l) => l.includes('late with its heartbeat'));
  /** Warnings and errors the nodes logged (the last 400 lines of each process), by level and message. */
  const nodeLogSummary: Record<string, number> = {};
  for (const line of nodeLogs) {
    try {
      const j = JSON.parse(line) as { level?: number; node?: string; msg?: string; err?: { type?: string } };
      if ((j.level ?? 0) < 40) continue;
      const key = `${j.level === 40 ? 'warn' : 'error'} ${j.node}: ${String(j.msg).slice(0, 100)}${j.err?.type ? ` (${j.err.type})` : ''}`;
      nodeLogSummary[key] = (nodeLogSummary[key] ?? 0) + 1;
    } catch {
      // not pino JSON
    }
  }

  // --- figures ---
  const orphans = kills.rounds.flatMap((r) => r.orphans);
  const failover = summarize(orphans.map((o) => o.failoverMs));
  const nodeDown = summarize(kills.rounds.map((r) => r.nodeDownMs ?? Number.NaN));
  const beatToDown = summarize(kills.rounds.map((r) => (r.nodeDownMs ?? Number.NaN) + (r.lastHeartbeatBeforeKillMs ?? Number.NaN)));
  const downToOrphaned = summarize(kills.rounds.flatMap((r) => r.orphans.map((o) => o.orphanedMs - (r.nodeDownMs ?? Number.NaN))));
  const orphanedToLaunched = summarize(orphans.map((o) => o.failoverMs - o.orphanedMs));
  const totalRequests = Object.values(roll.stats.requests).reduce((a, b) => a + b, 0);
  const failedRequests = Object.values(roll.stats.failed).reduce((a, b) => a + b, 0);
  const errorRate = totalRequests ? (100 * failedRequests) / totalRequests : Number.NaN;
  const gaveUp = roll.submitted.filter((q) => q.gaveUp);
  // Each failed request by what the cluster was doing then: a node draining (SIGTERM → exit), down (exit → serving again), or neither.
  const failuresByPhase: Record<string, Record<string, number>> = {};
  for (const f of roll.stats.log) {
    const draining = roll.steps.find((x) => f.at >= x.sigtermAt && f.at < x.exitedAt);
    const down = roll.steps.find((x) => f.at >= x.exitedAt && f.at < x.servingAt);
    const phase = draining ? `${draining.node} draining` : down ? `${down.node} down` : 'all up';
    const byKind = (failuresByPhase[phase] ??= {});
    byKind[`${f.kind} ${f.failure}`] = (byKind[`${f.kind} ${f.failure}`] ?? 0) + 1;
  }

  ctx.log(
    `SIGKILL → orphan RUNNING elsewhere over ${orphans.length} queries in ${kills.rounds.length} kills: p50 ${failover.p50.toFixed(0)} ms, p99 ${failover.p99.toFixed(0)} ms, max ${failover.max.toFixed(0)} ms ` +
      `(SIGKILL → NodeDown p50 ${nodeDown.p50.toFixed(0)} ms, last beat → NodeDown ${beatToDown.min.toFixed(0)}–${beatToDown.max.toFixed(0)} ms; NodeDown → orphaned p50 ${downToOrphaned.p50.toFixed(0)} ms; orphaned → attempt 2 launched p50 ${orphanedToLaunched.p50.toFixed(0)} ms); ` +
      `duplicates ${kills.duplicates.length}, wrong values ${kills.wrongValues.length}`,
  );
  ctx.log(
    `rolling restart ${(roll.rollMs / 1000).toFixed(1)} s: ${roll.submitted.length} submitted, ${roll.accepted} accepted, ${roll.lost.length} lost, ` +
      `${roll.duplicatedTerminal.length + roll.duplicateSubmits.length} duplicated, ${roll.failedQueries.length} failed, ${roll.wrongValues.length} wrong; ` +
      `${failedRequests} of ${totalRequests} requests failed before a retry (${errorRate.toFixed(2)}%): ${JSON.stringify(failuresByPhase)}; handed over ${JSON.stringify(roll.orphanReasons)}`,
  );
  for (const [body, count] of Object.entries(roll.stats.bodies)) ctx.log(`  ${count} × ${body}`);
  for (const step of roll.steps.filter((x) => x.forcedKill)) {
    ctx.log(`  ${step.node} (${step.oldIncarnation}) had to be SIGKILLed; what it logged about stopping, then its last lines:`);
    for (const line of [...step.stopLog, '…', ...(step.lastOutput ?? []).slice(-4)]) ctx.log(`    ${line}`);
  }
  for (const a of kills.anomalies) ctx.log(`  anomaly: ${a}`);
  for (const d of falseDowns) ctx.log(`  false NodeDown: ${JSON.stringify(d)}`);
  if (lateButAnswering.length) ctx.log(`  ${lateButAnswering.length} 'late with its heartbeat but answers' warnings, first: ${lateButAnswering[0]}`);
  if (roll.leftIncarnations.length !== roll.oldIncarnations.length) ctx.log(`  only ${roll.leftIncarnations.length} of ${roll.oldIncarnations.length} drained incarnations recorded NodeLeft`);
  if (gaveUp.length) ctx.log(`  the clients gave up on ${gaveUp.length} queries, first: k=${gaveUp[0].k}: ${gaveUp[0].gaveUp}`);

  // Must-be-zero figures fail the bench (after being logged).
  const problems: string[] = [];
  if (kills.duplicates.length) problems.push(`SIGKILL rounds: ${kills.duplicates.length} queries with more than one terminal event: ${JSON.stringify(kills.duplicates.slice(0, 5))}`);
  if (kills.wrongValues.length) problems.push(`SIGKILL rounds: ${kills.wrongValues.length} wrong values: ${JSON.stringify(kills.wrongValues.slice(0, 5))}`);
  if (roll.lost.length) problems.push(`rolling restart: ${roll.lost.length} accepted queries never ended: ${roll.lost.slice(0, 10).join(', ')}`);
  if (roll.duplicatedTerminal.length) problems.push(`rolling restart: ${roll.duplicatedTerminal.length} queries with more than one terminal event: ${JSON.stringify(roll.duplicatedTerminal.slice(0, 5))}`);
  if (roll.duplicateSubmits.length) problems.push(`rolling restart: ${roll.duplicateSubmits.length} request ids with more than one query: ${JSON.stringify(roll.duplicateSubmits.slice(0, 5))}`);
  if (roll.wrongValues.length) problems.push(`rolling restart: ${roll.wrongValues.length} wrong values: ${JSON.stringify(roll.wrongValues.slice(0, 5))}`);
  if (problems.length) throw new Error(problems.join('; '));

  const downAfter: BaselineRef = {
    name: 'baseline: failure detector',
    metric: `QUARRY_NODE_DOWN_AFTER_MS${usesDefaults ? ' (default)' : ' (from the environment)'}`,
    value: detection.downAfterMs,
    unit: 'ms',
  };
  const killDetail = {
    goalP99Ms: GOAL_P99_MS,
    goalMet: failover.p99 <= GOAL_P99_MS,
    kills: kills.rounds.length,
    orphans: orphans.length,
    queriesPerRound: s.queriesPerNode * 3,
    sleepSeconds: s.sleepSeconds,
    detection,
    usesDefaults,
    source: 'events.occurred_at of QueryLaunched {attempt: 2} (stamped by the writing node, whole ms) − the bench wall clock just before kill(SIGKILL), same machine',
    ...failover,
    rounds: kills.rounds,
    anomalies: kills.anomalies,
    nodeWarningsAndErrors: nodeLogSummary,
  };
  const stage = (metric: string, summary: LatencySummary, what: string): BenchRow => ({ name: NAME, metric, value: summary.p50, unit: 'ms', detail: { ...summary, what } });
  const perKind = (k: Kind) => ({ requests: roll.stats.requests[k], failed: roll.stats.failed[k] });
  const rollDetail = {
    lanes: s.lanes,
    sleepEvery: s.sleepEvery,
    loadMs: roll.loadMs,
    loadBeforeMs: s.loadBeforeMs,
    loadAfterMs: s.loadAfterMs,
    drainGraceMs: detection.drainGraceMs,
    steps: roll.steps,
  };
  return [
    {
      name: NAME,
      metric: `SIGKILL → orphan RUNNING elsewhere p50 (goal p99 ≤ ${GOAL_P99_MS} ms)`,
      value: failover.p50,
      unit: 'ms',
      baseline: downAfter,
      detail: killDetail,
    },
    { name: NAME, metric: `SIGKILL → orphan RUNNING elsewhere p99 (goal ≤ ${GOAL_P99_MS} ms)`, value: failover.p99, unit: 'ms', baseline: downAfter, detail: { goalMs: GOAL_P99_MS, goalMet: failover.p99 <= GOAL_P99_MS } },
    { name: NAME, metric: 'SIGKILL → orphan RUNNING elsewhere max', value: failover.max, unit: 'ms', baseline: downAfter },
    stage('stage SIGKILL → NodeDown p50', nodeDown, 'occurred_at of the NodeDown of the killed incarnation − kill time, one per kill'),
    stage(
      'stage last heartbeat → NodeDown p50',
      beatToDown,
      'the NodeDown − its lastHeartbeatAt (DB clock): at least QUARRY_NODE_DOWN_AFTER_MS by design, plus up to one detector pass (QUARRY_HEARTBEAT_MS) and the /health probe',
    ),
    stage('stage NodeDown → QueryAttemptOrphaned p50', downToOrphaned, 'per orphan: its QueryAttemptOrphaned − the NodeDown (Kafka NodeDown → takeover, or the PostgreSQL reconciliation)'),
    stage('stage QueryAttemptOrphaned → QueryLaunched attempt 2 p50', orphanedToLaunched, 'per orphan: requeued, NOTIFY, claimed by a node with a free slot'),
    { name: NAME, metric: 'SIGKILL rounds: queries ended more than once', value: kills.duplicates.length, unit: 'queries', detail: { queries: kills.handles.length, duplicates: kills.duplicates } },
    { name: NAME, metric: 'SIGKILL rounds: wrong values', value: kills.wrongValues.length, unit: 'queries', detail: { queries: kills.handles.length, wrongValues: kills.wrongValues } },
    { name: NAME, metric: 'NodeDown not caused by a SIGKILL', value: falseDowns.length, unit: 'events', detail: { falseDowns, lateButAnsweringWarnings: lateButAnswering.length, firstLateWarnings: lateButAnswering.slice(0, 5) } },
    { name: NAME, metric: 'rolling restart (SIGTERM, exit, start, healthy) × 3', value: roll.rollMs / 1000, unit: 's', detail: rollDetail },
    {
      name: NAME,
      metric: `rolling restart: nodes still up ${STOP_AFTER_LEFT_MS / 1000} s after their NodeLeft (SIGKILLed)`,
      value: roll.steps.filter((x) => x.forcedKill).length,
      unit: 'nodes',
      detail: { steps: roll.steps.map((x) => ({ node: x.node, drainMs: x.drainMs, nodeLeftMs: x.nodeLeftMs, exit: x.exit, stopLog: x.stopLog, lastOutput: x.lastOutput, startTimeline: x.startTimeline })) },
    },
    { name: NAME, metric: 'rolling restart: queries submitted', value: roll.submitted.length, unit: 'queries', detail: { accepted: roll.accepted, gaveUp: gaveUp.length, firstGaveUp: gaveUp.slice(0, 5).map((q) => ({ k: q.k, requestId: q.requestId, why: q.gaveUp })) } },
    {
      name: NAME,
      metric: 'rolling restart: lost (accepted, never ended)',
      value: roll.lost.length,
      unit: 'queries',
      detail: { lost: roll.lost, notTerminalWhenLoadStopped: roll.notTerminalAtLoadEnd, deadlineMs: s.terminalDeadlineMs },
    },
    {
      name: NAME,
      metric: 'rolling restart: duplicated',
      value: roll.duplicatedTerminal.length + roll.duplicateSubmits.length,
      unit: 'queries',
      detail: { moreThanOneTerminal: roll.duplicatedTerminal, requestIdsWithMoreThanOneQuery: roll.duplicateSubmits, queriesTheClientNeverHeardOf: roll.unknownSubmits },
    },
    {
      name: NAME,
      metric: 'rolling restart: client-visible error rate',
      value: errorRate,
      unit: '%',
      detail: {
        what: 'requests (submit, status, result) that failed (no answer, or not 200) and were retried / all requests',
        requests: totalRequests,
        failed: failedRequests,
        submit: perKind('submit'),
        status: perKind('status'),
        result: perKind('result'),
        byPhase: failuresByPhase,
        answers: roll.stats.bodies,
      },
    },
    {
      name: NAME,
      metric: 'rolling restart: queries ended FAILED/CANCELED',
      value: roll.failedQueries.length,
      unit: 'queries',
      detail: { failed: roll.failedQueries, handedOver: roll.orphanReasons, ranAgain: roll.relaunched, resultsPersistedByDrain: roll.resultsPersisted, nodeLeft: roll.leftIncarnations.length },
    },
    { ...downAfter, detail: { ...detection, defaults: defaultDetection } },
  ];
}
