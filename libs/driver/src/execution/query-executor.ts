import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DriverCanceled, type Driver, type Execution } from '@quarry/drivers';
import { AppendRefused, inTransaction, PgListener, type Loaded } from '@quarry/eventstore';
import { DB_POOL, DRIVERS, LOGGER, NODE_IDENTITY, NodeDrain, QUARRY_CONFIG, QuarryMetrics, withTimeout, type NodeIdentity, type QuarryConfig } from '@quarry/platform';
import { CANCEL_CHANNEL, driverSessionFor, FINISHED_CHANNEL, finishedInterest, LocalExecution, QueryCommands, QueryRefused, QueryTakeover, queryWork, QUEUE_CHANNEL, type LocalExecutor, type QueryCommand, type QueryState, type WorkOwner } from '@quarry/query';
import { SessionRepository, type SessionState } from '@quarry/session';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { ResultCapture, type Outcome, type RunIntoCsv, type RunIntoRows } from '@quarry/result';

/** The claim poll's period: each executor is woken by NOTIFY, and claims again once it listens again. */
const BACKUP_CLAIM_MS = 5000;

interface Slot {
  execution?: Execution;
  canceled: boolean;
}

interface Claimed {
  queryHandle: string;
  attempt: number;
  /** The query as the claim left it, and its version: no second read before running or finishing. */
  state: QueryState;
  version: number;
  /** Its session, when the submit on this node has just read it. */
  session?: SessionState;
}

/**
 * Runs queued queries on this node, at most `maxRunningPerNode` at once. A free slot claims the
 * next query from `query_queue` (SKIP LOCKED: nodes never take the same one, a busy node never
 * holds one back) and records itself as executor (QueryLaunched) in the same transaction, before
 * any work starts. NOTIFY wakes it on a new query and tells it which running query to cancel.
 * A query submitted on this node while a slot is free and nobody waits skips the queue: the
 * submit launches it here in its own transaction (LocalExecutor). Results stay in this node's
 * memory (HeldResults) unless the query or the server asks for the shared store.
 */
@Injectable()
export class QueryExecutor implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown, LocalExecutor {
  private readonly running = new Map<string, Slot>();
  /** Queries launched in a submit transaction on this node, waiting for its commit. */
  private readonly launchedLocally = new Map<string, Claimed>();
  /** Runs begun beside their submit's append (prestart), waiting for its commit (start) or failure (withdraw). */
  private readonly begunEarly = new Map<string, Promise<Outcome>>();
  /** Of those, the ones whose end goes in the launch's own append (endInLaunch): start() records nothing more. */
  private readonly endedInLaunch = new Set<string>();
  private listener?: PgListener;
  private stopping = false;
  private filling?: Promise<void>;
  private refill = false;
  /** Whether a query may be waiting that a free slot here would take: false once a claim found fewer than it asked for. */
  private mayHaveWaiting = true;
  private timer?: NodeJS.Timeout;
  /** Woken whenever a running query ends (the drain waits on it). */
  private ended: (() => void)[] = [];

  constructor(
    private readonly queries: QueryCommands,
    private readonly sessions: SessionRepository,
    @Inject(DRIVERS) private readonly drivers: Driver[],
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly capture: ResultCapture,
    private readonly local: LocalExecution,
    private readonly takeover: QueryTakeover,
    private readonly drain: NodeDrain,
    private readonly metrics: QuarryMetrics,
  ) {}

  onModuleInit(): void {
    this.drain.add('running queries', 'work', (deadline) => this.handOver(deadline));
  }

  async onApplicationBootstrap(): Promise<void> {
    this.local.executor = this;
    // A NOTIFY missed while the listener reconnected: one claim pass once it listens again.
    const onRelisten = () => this.fill();
    this.listener = new PgListener(this.pool, [QUEUE_CHANNEL, CANCEL_CHANNEL], (channel, payload) => this.onNotice(channel, payload), 'query executor', this.logger, onRelisten);
    await this.listener.start();
    // A backup for anything else missed, every few seconds: one read, and a claim pass (a
    // transaction of three statements) only when a query waits.
    this.timer = setInterval(() => void this.claimIfWaiting(), BACKUP_CLAIM_MS);
    this.timer.unref();
    this.fill();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stopClaiming();
    // Whatever still runs was handed over by the drain (or is taken over once this node has left).
    await Promise.all([...this.running.values()].map((r) => r.execution?.cancel().catch(() => undefined)));
    this.listener?.stop();
  }

  /**
   * Draining: no new work; running queries get until the deadline to finish, then each is handed
   * over (a new attempt on another node) and stopped here.
   */
  private async handOver(deadline: number): Promise<void> {
    await this.stopClaiming();
    while (this.running.size > 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.ended.push(() => (clearTimeout(timer), resolve()));
      });
    }
    const { nodeId, incarnation } = this.identity;
    let handed = 0;
    for (const [queryHandle, slot] of [...this.running]) {
      if (await this.takeover.takeOver({ queryHandle, nodeId, incarnation, endedReason: 'drain' }, 'drain')) handed++;
      slot.canceled = true;
      await slot.execution?.cancel().catch(() => undefined);
    }
    if (handed > 0) {
      await this.takeover.wakeExecutors();
      this.logger.info({ queries: handed }, 'drain: running queries handed over to other nodes');
    }
  }

  private async stopClaiming(): Promise<void> {
    this.stopping = true;
    this.local.executor = undefined;
    clearInterval(this.timer);
    await this.filling;
  }

  reserve(queryHandle: string): boolean {
    if (this.stopping || this.running.size >= this.config.queries.maxRunningPerNode) return false;
    // Registered now, so a cancel right after the submit's commit finds the query here.
    this.running.set(queryHandle, { canceled: false });
    return true;
  }

  launchCommand(): QueryCommand {
    return { type: 'LaunchQuery', executorNodeId: this.identity.nodeId, executorIncarnation: this.identity.incarnation, startRunning: true };
  }

  launched(queryHandle: string, { state, version }: Loaded<QueryState>, session: SessionState): void {
    this.launchedLocally.set(queryHandle, { queryHandle, attempt: state.attempt, state, version, session });
  }

  prestart(queryHandle: string, state: QueryState, session: SessionState): void {
    const slot = this.running.get(queryHandle);
    // Only a reserved query, once (the append may be decided again), whose rows stay here (a
    // persisted result's files are not worth writing before the query is on record), and not
    // while a query may be waiting: the append would likely be refused, the run thrown away.
    if (!slot || this.mayHaveWaiting || this.begunEarly.has(queryHandle) || !this.capture.holds(state)) return;
    const outcome = this.execute({ queryHandle, attempt: state.attempt, state, session }, slot);
    outcome.catch(() => undefined); // read by run() after the commit, or by withdraw()
    this.begunEarly.set(queryHandle, outcome);
  }

  async endInLaunch(queryHandle: string, state: QueryState, windowMs: number): Promise<QueryCommand[] | undefined> {
    const early = this.begunEarly.get(queryHandle);
    if (!early || windowMs <= 0) return undefined;
    const outcome = await withTimeout(early, windowMs).catch(() => undefined);
    // A failure, or a run still going: recorded after the commit, as any run is.
    if (!outcome || this.begunEarly.get(queryHandle) !== early) return undefined;
    this.endedInLaunch.add(queryHandle);
    return [{ type: 'Complete', attempt: state.attempt, resultAvailable: true, rowCount: outcome.rowCount, persisted: outcome.persisted, held: outcome.held }];
  }

  start(queryHandle: string): void {
    const claimed = this.launchedLocally.get(queryHandle);
    const early = this.begunEarly.get(queryHandle);
    const ended = this.endedInLaunch.delete(queryHandle);
    this.launchedLocally.delete(queryHandle);
    this.begunEarly.delete(queryHandle);
    if (!claimed) this.release(queryHandle);
    else if (ended) {
      this.metrics.endedInLaunch.inc();
      this.local.ended(queryHandle, { state: claimed.state, version: claimed.version });
      this.runOver(queryHandle);
    } else void this.run(claimed, early);
  }

  async withdraw(queryHandle: string): Promise<void> {
    const early = this.begunEarly.get(queryHandle);
    this.endedInLaunch.delete(queryHandle);
    if (!early) return;
    this.begunEarly.delete(queryHandle);
    this.metrics.runsWithdrawn.inc();
    await this.cancelLocal(queryHandle);
    const outcome = await early.catch(() => undefined);
    if (outcome) await this.capture.discard(queryHandle, outcome).catch((error: Error) => this.logger.warn({ err: error.message, query: queryHandle }, 'could not discard a withdrawn run'));
  }

  release(queryHandle: string): void {
    this.launchedLocally.delete(queryHandle);
    this.endedInLaunch.delete(queryHandle);
    if (!this.running.delete(queryHandle)) return;
    this.ended.splice(0).forEach((wake) => wake());
    if (this.mayHaveWaiting) this.fill();
  }

  private onNotice(channel: string, payload: string | undefined): void {
    if (channel === QUEUE_CHANNEL) this.fill();
    if (channel === CANCEL_CHANNEL && payload) void this.cancelLocal(payload);
  }

  /** Claims queries while there are free slots; concurrent calls fold into one pass. */
  private async claimIfWaiting(): Promise<void> {
    if (this.filling || this.stopping || this.running.size >= this.config.queries.maxRunningPerNode) return;
    const waiting = await queryWork.anyWaiting(this.pool).catch((error: Error) => {
      this.logger.warn({ err: error.message }, 'query executor: could not look for waiting queries');
      return false;
    });
    if (waiting) this.fill();
  }

  private fill(): void {
    if (this.filling) {
      this.refill = true;
      return;
    }
    this.filling = (async () => {
      do {
        this.refill = false;
        while (!this.stopping) {
          const free = this.config.queries.maxRunningPerNode - this.running.size;
          if (free <= 0) {
            this.mayHaveWaiting = true;
            break;
          }
          const claimed = await this.claim(free).catch((error: Error) => {
            this.logger.warn({ err: error.message }, 'query executor: claim failed');
            return undefined;
          });
          for (const query of claimed ?? []) void this.run(query);
          this.mayHaveWaiting = claimed === undefined || claimed.length === free;
          if (!this.mayHaveWaiting) break;
        }
      } while (this.refill && !this.stopping);
    })().finally(() => (this.filling = undefined));
  }

  get owner(): WorkOwner {
    return { nodeId: this.identity.nodeId, incarnation: this.identity.incarnation };
  }

  /** Up to `slots` queries in one transaction, each recorded as launched here before it runs. */
  private async claim(slots: number): Promise<Claimed[]> {
    const taken: string[] = [];
    try {
      return await inTransaction(this.pool, async (tx) => {
        const launched: Claimed[] = [];
        for (const queryHandle of await queryWork.claim(tx, slots, this.owner)) {
          const launch = await this.queries
            .executeIn(tx, queryHandle, {
              type: 'LaunchQuery',
              executorNodeId: this.identity.nodeId,
              executorIncarnation: this.identity.incarnation,
              startRunning: true,
            })
            .catch(async (error: unknown) => {
              // Nothing to run any more (closed meanwhile): the row goes rather than come back forever.
              if (!(error instanceof QueryRefused)) throw error;
              await queryWork.remove(tx, queryHandle);
              return undefined;
            });
          if (!launch) continue;
          const { state, version } = launch;
          launched.push({ queryHandle, attempt: state.attempt, state, version });
          // Registered before the commit, so a cancel notice right after it finds the query here.
          this.running.set(queryHandle, { canceled: false });
          taken.push(queryHandle);
        }
        return launched;
      });
    } catch (error) {
      taken.forEach((handle) => this.running.delete(handle));
      throw error;
    }
  }

  /** Runs a launched query to its recorded end; `early`, when its run began beside the launch's append. */
  private async run(claimed: Claimed, early?: Promise<Outcome>): Promise<void> {
    const { queryHandle, attempt } = claimed;
    const slot = this.running.get(queryHandle) ?? { canceled: false };
    try {
      const outcome = await (early ?? this.execute(claimed, slot));
      const recorded = await this.finish(claimed, {
        type: 'Complete',
        attempt,
        resultAvailable: true,
        rowCount: outcome.rowCount,
        persisted: outcome.persisted,
        held: outcome.held,
      }).catch((error: Error) => {
        this.capture.forget(queryHandle);
        throw error;
      });
      // Taken over or canceled meanwhile: nobody will ask this attempt for its rows.
      if (!recorded) this.capture.forget(queryHandle);
    } catch (error) {
      await this.recordFailure(claimed, slot.canceled, error as Error);
    } finally {
      this.runOver(queryHandle);
    }
  }

  /** A run's end is recorded (or was not this attempt's to record): its slot is free, its waiters here look. */
  private runOver(queryHandle: string): void {
    this.running.delete(queryHandle);
    this.local.ended(queryHandle);
    this.ended.splice(0).forEach((wake) => wake());
    // No claim while nothing can be waiting: a query queued meanwhile wakes this node (NOTIFY, or the poll).
    if (this.mayHaveWaiting) this.fill();
  }

  /** The engine's run of the query into its result (held or persisted); nothing is recorded. */
  private async execute({ queryHandle, attempt, state, session }: Omit<Claimed, 'version'>, slot: Slot): Promise<Outcome> {
    const driver = this.drivers.find((d) => d.name === state.driver);
    if (!driver) throw new Error(`driver ${state.driver} is not available on node ${this.identity.nodeId}`);
    const spec = await driverSessionFor(session ?? (await this.sessions.load(state.sessionPublicId!)).state, this.pool);
    const sql = state.driverQuery!;
    const intoRows: RunIntoRows = (sink) => this.begin(slot, driver.execute(spec, sql, sink));
    const exportCsv = driver.exportCsv?.bind(driver);
    const intoCsv: RunIntoCsv | undefined = exportCsv && ((target, header) => this.begin(slot, exportCsv(spec, sql, target, { header })));
    return this.capture.run({ queryHandle, attempt, state }, intoRows, intoCsv);
  }

  private async begin(slot: Slot, execution: Execution): Promise<{ rowCount: number }> {
    slot.execution = execution;
    if (slot.canceled) await execution.cancel();
    return execution.done;
  }

  private async recordFailure(claimed: Claimed, canceled: boolean, error: Error): Promise<void> {
    // Canceled, or moved on by another writer (a newer attempt): the stream already says so.
    if (canceled || error instanceof DriverCanceled || error instanceof QueryRefused) return;
    try {
      await this.finish(claimed, { type: 'Fail', attempt: claimed.attempt, message: error.message });
    } catch (failure) {
      if (!(failure instanceof QueryRefused)) this.logger.error({ err: failure, query: claimed.queryHandle }, 'could not record a query failure');
    }
  }

  /**
   * Records how this node's attempt ended and gives its work row back, in one statement that
   * commits on its own; the row locked first, as every writer takes it. False when the row is no
   * longer this node's (the query was taken over or canceled): then nothing is recorded. Decided
   * on the state the launch left, which the row lock keeps current but for rare writers (the
   * stream is read again then).
   */
  private async finish({ queryHandle, state, version }: Claimed, command: QueryCommand): Promise<boolean> {
    const owner = this.owner;
    const decided = await this.queries
      .executeIn(this.pool, queryHandle, command, {
        from: { state, version },
        // Heard only by the nodes that wait for it elsewhere; a wait on this node is woken by `ended`.
        notify: [{ channel: FINISHED_CHANNEL, payload: queryHandle, onlyIfHeard: finishedInterest(queryHandle) }],
        conditions: (sql) => ({ onlyIf: queryWork.heldBy(sql, queryHandle, owner), writes: [queryWork.finished(sql, queryHandle)] }),
      })
      .catch(async (error: unknown) => {
        // No longer this attempt's row: nothing is recorded.
        if (error instanceof AppendRefused) return undefined;
        if (!(error instanceof QueryRefused)) throw error;
        // The query moved on (closed meanwhile): the row goes, nothing is recorded.
        await queryWork.giveBack(this.pool, queryHandle, owner);
        return undefined;
      });
    if (decided) this.local.ended(queryHandle, { state: decided.state, version: decided.version });
    return decided !== undefined;
  }

  isRunning(queryHandle: string): boolean {
    return this.running.has(queryHandle);
  }

  private async cancelLocal(queryHandle: string): Promise<void> {
    const slot = this.running.get(queryHandle);
    if (!slot) return;
    slot.canceled = true;
    await slot.execution?.cancel().catch((error: Error) => this.logger.warn({ err: error.message, query: queryHandle }, 'cancel failed'));
  }
}
