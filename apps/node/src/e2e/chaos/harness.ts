import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, createTestDatabase, createTestWarehouse, PrivateBroker, uniqueTopicPrefix, waitFor, type TestDatabase } from '@quarry/testing';
import { dealFault, faultRounds, waitHealthy, type DealtFault } from './faults';
import { seededRandom } from '@quarry/testing';
import { NodeSupervisor } from './supervisor';
import { failures, ghostWriteSummary, verdict, type EventRow, type Verdict } from './verdict';
import { Workload } from './workload';

export interface ChaosOptions {
  /** How long faults are dealt; the round under way is always finished, so every kind runs at least once. */
  seconds: number;
  seed: number;
  clients?: number;
  /** After the faults: how long clients and queries get to finish (then an unfinished query is lost). */
  settleSeconds?: number;
  /** Aborted: the run cleans up at once and rejects, with no verdict (Ctrl-C of `npm run chaos`). */
  stop?: AbortSignal;
  heartbeatMs?: number;
  downAfterMs?: number;
  log?: (line: string) => void;
}

export interface ChaosResult {
  seed: number;
  verdict: Verdict;
  faults: DealtFault[];
  /** The counters that must be 0 and are not. */
  failures: string[];
}

/**
 * A chaos run: its own database, topic prefix, private broker and warehouse; three nodes behind
 * the balancer; clients submitting queries with known answers while one fault at a time is dealt
 * from a seeded schedule; then the verdict from the clients' records and the event store. Prints
 * the verdict as one line starting `chaos: ` and removes everything it made, whatever happens.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const startedAt = Date.now();
  const print = options.log ?? ((line: string) => process.stderr.write(`[chaos] ${line}\n`));
  const log = (line: string) => print(`${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s  ${line}`);
  const run = new Run(log);
  const running = chaos(options, run, log);
  const interrupted = new Promise<never>((_, reject) => {
    options.stop?.addEventListener(
      'abort',
      () => {
        log('interrupted: cleaning up');
        void (async () => {
          await run.cleanUp();
          // A start-up step under way (a broker, a node) owns what it made once it returns.
          await Promise.race([running.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
          await run.cleanUp();
          reject(new Error('interrupted; no verdict'));
        })();
      },
      { once: true },
    );
  });
  interrupted.catch(() => undefined);
  try {
    return await Promise.race([running, interrupted]);
  } finally {
    await run.cleanUp();
  }
}

/** What a run made, removed last made first, each once, however the run ends. */
class Run {
  private readonly cleanups: (() => Promise<unknown> | void)[] = [];
  supervisor?: NodeSupervisor;
  private cleaning?: Promise<void>;

  constructor(private readonly log: (line: string) => void) {}

  /** Something to remove at the end (or at the next clean-up, when one has begun: an interrupted start). */
  own(cleanup: () => Promise<unknown> | void): void {
    this.cleanups.push(cleanup);
  }

  /** Removes what is owned so far; again later for what was owned since. */
  cleanUp(): Promise<void> {
    const previous = this.cleaning ?? Promise.resolve();
    this.cleaning = previous.then(async () => {
      await this.supervisor?.close();
      for (let cleanup = this.cleanups.pop(); cleanup; cleanup = this.cleanups.pop()) await this.runOne(cleanup);
    });
    return this.cleaning;
  }

  private async runOne(cleanup: () => Promise<unknown> | void): Promise<void> {
    try {
      await cleanup();
    } catch (error) {
      this.log(`clean-up failed: ${(error as Error).message}`);
    }
  }
}

async function chaos(options: ChaosOptions, run: Run, log: (line: string) => void): Promise<ChaosResult> {
  const heartbeatMs = options.heartbeatMs ?? 1000;
  const downAfterMs = options.downAfterMs ?? 3000;
  const settleMs = (options.settleSeconds ?? 30) * 1000;
  log(`seed ${options.seed}, ${options.seconds} s of faults, ${options.clients ?? 4} clients, heartbeat ${heartbeatMs} ms, down after ${downAfterMs} ms`);
  const db = await createTestDatabase();
  run.own(() => db.drop());
  // The backends fault terminates this pool's connections too.
  db.pool.on('error', () => undefined);
  const warehouse = await createTestWarehouse();
  run.own(() => warehouse.drop());
  const resultDir = mkdtempSync(join(tmpdir(), 'quarry-chaos-results-'));
  run.own(() => rmSync(resultDir, { recursive: true, force: true }));
  const broker = await PrivateBroker.start();
  run.own(() => broker.stop());
  log(`database ${db.name}, warehouse ${warehouse.name}, private broker ${broker.brokers.join(',')}`);

  const cluster = await Cluster.start({
    databaseUrl: db.url,
    kafkaBrokers: broker.brokers,
    topicPrefix: uniqueTopicPrefix(),
    env: {
      QUARRY_PG_WAREHOUSE_URL: warehouse.readerUrl,
      QUARRY_RESULT_DIR: resultDir,
      QUARRY_HEARTBEAT_MS: String(heartbeatMs),
      QUARRY_NODE_DOWN_AFTER_MS: String(downAfterMs),
      QUARRY_MAX_SESSIONS_PER_USER: '100',
      QUARRY_RERUN_WAIT_MS: '5000',
    },
  });
  run.own(() => cluster.stop());
  const watching = new NodeSupervisor(cluster, log);
  run.supervisor = watching;
  await waitHealthy({ cluster });
  log(`three nodes up behind ${cluster.balancerUrl}`);

  const workload = new Workload({ balancerUrl: cluster.balancerUrl, clients: options.clients ?? 4, random: seededRandom(options.seed + 1), log });
  workload.start();

  const faults: DealtFault[] = [];
  const ctx = { cluster, supervisor: watching, broker, db, downAfterMs, log };
  const endAt = Date.now() + options.seconds * 1000;
  for (const round of faultRounds(seededRandom(options.seed), cluster.nodes.map((n) => n.options.nodeId))) {
    if (Date.now() >= endAt) break;
    for (const planned of round) {
      log(`fault ${faults.length + 1}: ${planned.kind}${planned.kind.startsWith('sig') ? ` ${planned.target}` : ''} (${Math.round((endAt - Date.now()) / 1000)} s left)`);
      try {
        faults.push(await dealFault(ctx, planned));
      } catch (error) {
        log(`  the fault could not be dealt: ${(error as Error).message}`);
        faults.push({ kind: planned.kind, nodeId: planned.target, at: Date.now(), notes: [`not dealt: ${(error as Error).message}`], healthyAfterMs: null });
        await waitHealthy(ctx).catch((e: Error) => log(`  ${e.message}`));
      }
      // The workload's timing between faults, not a wait for a condition.
      await new Promise((resolve) => setTimeout(resolve, planned.pauseAfterMs));
    }
  }

  const settleBy = Date.now() + settleMs;
  log(`faults over; clients finish their queries (up to ${settleMs / 1000} s)`);
  await workload.finish(settleBy);
  const unfinished = await waitFor('every accepted query to end', async () => ((await unfinishedQueries(db)) === 0 ? true : undefined), {
    timeoutMs: Math.max(1, settleBy - Date.now()),
    intervalMs: 250,
  }).then(
    () => 0,
    () => unfinishedQueries(db),
  );
  if (unfinished > 0) log(`${unfinished} accepted queries have not ended`);

  const events = await readEvents(db);
  const result = verdict({ clients: workload.records, events, faults, exits: watching.exits });
  for (const f of faults) log(`fault ${f.kind}${f.nodeId ? ` ${f.nodeId}` : ''}: healthy after ${f.healthyAfterMs ?? '-'} ms${f.notes.length ? `; ${f.notes.join('; ')}` : ''}`);
  for (const e of watching.exits.filter((x) => !x.planned)) log(`unplanned exit: ${e.nodeId} ${e.signal ?? `code ${e.code}`}`);
  for (const line of ghostWriteSummary(events)) log(`ghost writes: ${line}`);
  // Not a check (a query may fail for a reason of its own), but always said: what ended them.
  for (const e of events.filter((x) => x.type === 'QueryFailed' || x.type === 'QueryCanceled')) {
    log(`${e.type} ${e.streamId}: ${String(e.payload['message'] ?? `canceled by ${String(e.payload['canceledBy'])}`).slice(0, 300)}`);
  }
  const errors = workload.records.flatMap((r) => r.errors.map((e) => e.replace(/[0-9a-f-]{36}/g, '<uuid>').slice(0, 160)));
  for (const [error, n] of countOf(errors)) log(`client error x${n}: ${error}`);
  process.stdout.write(`chaos: ${JSON.stringify(result)}\n`);
  return { seed: options.seed, verdict: result, faults, failures: failures(result) };
}

async function unfinishedQueries(db: TestDatabase): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT stream_id FROM events WHERE stream_id LIKE 'query-%' GROUP BY stream_id
       HAVING bool_or(type = 'QuerySubmitted') AND NOT bool_or(type IN ('QuerySucceeded', 'QueryFailed', 'QueryCanceled'))) q`,
  );
  return rows[0].n;
}

async function readEvents(db: TestDatabase): Promise<EventRow[]> {
  const { rows } = await db.pool.query<{ global_position: string; stream_id: string; stream_version: number; type: string; payload: Record<string, unknown>; node_incarnation: string; occurred_at: Date }>(
    'SELECT global_position, stream_id, stream_version, type, payload, node_incarnation, occurred_at FROM events ORDER BY global_position',
  );
  return rows.map((r) => ({
    globalPosition: Number(r.global_position),
    streamId: r.stream_id,
    streamVersion: r.stream_version,
    type: r.type,
    payload: r.payload,
    nodeIncarnation: r.node_incarnation,
    occurredAt: r.occurred_at,
  }));
}

function countOf(items: string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]);
}
