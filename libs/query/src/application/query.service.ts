import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import { chooseDriver, type Driver } from '@quarry/drivers';
import { AppendRefused, inTransaction, type Decided } from '@quarry/eventstore';
import { DB_POOL, DRIVERS, QUARRY_CONFIG, type QuarryConfig } from '@quarry/platform';
import { SessionService, type SessionHandle, type SessionState } from '@quarry/session';
import type { Pool } from 'pg';
import { QueryRefused } from '../domain/query.errors';
import { isSettled } from '../domain/query-status';
import type { QueryCommand } from '../domain/query.decider';
import { INITIAL_QUERY, type QueryPriority, type QueryState } from '../domain/query.state';
import { QueryRepository } from '../infrastructure/query-repository';
import { queryWork, type WorkOwner } from '../infrastructure/query-work';
import { queryRequests } from '../infrastructure/query-requests';
import { DriverChoices } from './driver-choices';
import { driverSessionFor } from './driver-session';
import { CANCEL_CHANNEL, CONF, FINISHED_CHANNEL, QUEUE_CHANNEL } from './query-channels';
import { LocalExecution } from './local-execution';
import { QueryFinishListener } from './query-finish-listener';

/** How long a queued query may wait for a free slot elsewhere before submits here stop launching ahead of it. */
const QUEUE_GRACE_MS = 250;

/** How often a watch looks at a query's stream between the ends NOTIFY wakes it for. */
const WATCH_LOOK_MS = 250;

const PRIORITIES: readonly QueryPriority[] = ['VERY_HIGH', 'HIGH', 'NORMAL', 'LOW', 'VERY_LOW'];

export interface SubmitInput {
  query: string;
  conf: Record<string, string>;
  queryName: string;
}

export interface QueryView {
  state: QueryState;
  /** 1-based position among waiting queries while QUEUED. */
  queueNumber?: number;
}

/** The query use cases on the submitting side: submit, read, cancel, change, plan and cost. */
@Injectable()
export class QueryService {
  constructor(
    private readonly repository: QueryRepository,
    private readonly sessions: SessionService,
    @Inject(DRIVERS) private readonly drivers: Driver[],
    @Inject(DB_POOL) private readonly pool: Pool,
    private readonly finishes: QueryFinishListener,
    private readonly local: LocalExecution,
    private readonly choices: DriverChoices,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
  ) {}

  async submit(handle: SessionHandle, input: SubmitInput): Promise<string> {
    return this.submitFor(await this.sessions.get(handle), input);
  }

  /**
   * Submits, then waits as waitUntilFinished does (EXECUTE_WITH_TIMEOUT): one request, so the
   * session checked for the submit is the one the wait uses, not read again.
   */
  async submitAndWait(handle: SessionHandle, input: SubmitInput, timeoutMs: number): Promise<{ queryHandle: string; view: QueryView }> {
    const session = await this.sessions.get(handle);
    const queryHandle = await this.submitFor(session, input, timeoutMs);
    return { queryHandle, view: await this.waitFor(session, queryHandle, timeoutMs) };
  }

  /** `answerWithinMs`: the caller's own wait (EXECUTE_WITH_TIMEOUT), which the quick-end window never outlasts. */
  private async submitFor(session: SessionState, input: SubmitInput, answerWithinMs = Infinity): Promise<string> {
    const conf = { ...session.params, ...input.conf };
    checkResultTtl(conf[CONF.resultTtlSeconds]);
    const requestId = conf[CONF.requestId];
    if (requestId) {
      const earlier = await this.earlierSubmit(session.userName!, requestId);
      if (earlier) return earlier;
    }
    const spec = await driverSessionFor(session, this.pool);
    const { driver } = await this.choices.forSubmit(spec, input.query, conf[CONF.driver]);
    const queryHandle = randomUUID();
    const priority = priorityOf(conf[CONF.priority]);
    const local = this.local.executor?.reserve(queryHandle) ? this.local.executor : undefined;
    const submit: QueryCommand = {
      type: 'SubmitQuery',
      queryHandle,
      sessionPublicId: session.publicId!,
      userName: session.userName!,
      userQuery: input.query,
      driver: driver.name,
      driverQuery: input.query,
      conf,
      queryName: input.queryName,
      priority,
      persistent: conf[CONF.persistent] === 'true',
      clientRequestId: requestId,
      warnings: driver.unsupportedResources(spec),
    };
    // One statement, committing on its own: the events, the work row and the request id together.
    // Launched here (owned from the start) only while no query waits; otherwise it waits too.
    // A run that ended before the append was sent goes in it too, and leaves no work row.
    const append = (owner: WorkOwner | undefined) =>
      this.repository.executeIn(this.pool, queryHandle, owner ? [submit, local!.launchCommand()] : submit, {
        // A new handle: its stream is known to be empty, so nothing is read.
        from: { state: INITIAL_QUERY, version: 0 },
        notify: owner ? [] : [{ channel: QUEUE_CHANNEL, payload: queryHandle }],
        // Launched here: the engine starts on it while the append commits (ADR 11, seventh pass), or
        // before it, for a run that ends within the window (ninth pass).
        beforeAppend:
          owner && local
            ? async (state) => {
                local.prestart(queryHandle, state, session);
                return local.endInLaunch(queryHandle, state, Math.min(this.config.queries.quickEndMs, answerWithinMs));
              }
            : undefined,
        conditions: (sql, state) => ({
          onlyIf: owner && queryWork.nothingWaiting(sql, QUEUE_GRACE_MS),
          writes: [
            ...(isSettled(state) ? [] : [queryWork.inserted(sql, queryHandle, priority, owner)]),
            // Two retries racing: the second waits on this key, then fails on it and writes nothing.
            ...(requestId ? [queryRequests.inserted(sql, session.userName!, requestId, queryHandle)] : []),
          ],
        }),
      });
    let launched: Decided<QueryState> | undefined;
    try {
      if (local) {
        launched = await append(local.owner).catch(async (error: unknown) => {
          // What began beside the append goes before the query may be queued (and run) again.
          await local.withdraw(queryHandle);
          if (error instanceof AppendRefused) return undefined;
          throw error;
        });
      }
      if (launched) local!.launched(queryHandle, launched, session);
      else await append(undefined);
    } catch (error) {
      local?.release(queryHandle);
      const earlier = requestId && isUniqueViolation(error) ? await this.earlierSubmit(session.userName!, requestId) : undefined;
      if (earlier) return earlier;
      throw error;
    }
    if (launched) local!.start(queryHandle);
    else local?.release(queryHandle);
    return queryHandle;
  }

  /** The user behind a session handle (checked). */
  async owner(handle: SessionHandle): Promise<{ userName: string }> {
    return { userName: (await this.sessions.get(handle)).userName! };
  }

  /** A query of the caller's own; someone else's reads exactly like an unknown one. */
  async get(handle: SessionHandle, queryHandle: string): Promise<QueryView> {
    return (await this.sessionAndView(handle, queryHandle)).view;
  }

  async cancel(handle: SessionHandle, queryHandle: string): Promise<QueryState> {
    const { session } = await this.sessionAndView(handle, queryHandle);
    return inTransaction(this.pool, async (tx) => {
      // The work row first, as every writer does, so none of them deadlock.
      await queryWork.remove(tx, queryHandle);
      const { state } = await this.repository.executeIn(tx, queryHandle, { type: 'Cancel', canceledBy: session.userName! });
      await tx.query('SELECT pg_notify($1, $3), pg_notify($2, $3)', [CANCEL_CHANNEL, FINISHED_CHANNEL, queryHandle]);
      return state;
    });
  }

  /** Queues a finished query whose in-memory result is gone to run again; a second ask finds it queued. */
  async rerun(handle: SessionHandle, queryHandle: string, reason: string): Promise<void> {
    const { session } = await this.sessionAndView(handle, queryHandle);
    await inTransaction(this.pool, async (tx) => {
      const ran = await this.repository.executeIn(tx, queryHandle, { type: 'Rerun', requestedBy: session.userName!, reason }).catch((error: unknown) => {
        if (error instanceof QueryRefused && error.refusal.kind === 'not-gone') return undefined;
        throw error;
      });
      if (!ran) return;
      await queryWork.enqueue(tx, queryHandle, ran.state.priority);
      await tx.query('SELECT pg_notify($1, $2)', [QUEUE_CHANNEL, queryHandle]);
    });
  }

  async updateConf(handle: SessionHandle, queryHandle: string, conf: Record<string, string>): Promise<void> {
    const { state } = (await this.sessionAndView(handle, queryHandle)).view;
    await this.repository.execute(queryHandle, { type: 'UpdateConf', conf: { ...state.conf, ...conf } });
  }

  async plan(handle: SessionHandle, query: string, conf: Record<string, string>) {
    const session = await this.sessions.get(handle);
    const spec = await driverSessionFor(session, this.pool);
    const merged = { ...session.params, ...conf };
    const { driver, estimate } = await chooseDriver(this.drivers, spec, query, merged[CONF.driver]);
    return { driver: driver.name, estimate, plan: await driver.explain(spec, query) };
  }

  /** Waits until the query finished (and any re-run of its result ended) or the deadline passed; returns what it is then. */
  async waitUntilFinished(handle: SessionHandle, queryHandle: string, timeoutMs: number): Promise<QueryView> {
    // The session is checked once: the wait is one request, however many looks it takes.
    return this.waitFor(await this.sessions.get(handle), queryHandle, timeoutMs);
  }

  private async waitFor(session: SessionState, queryHandle: string, timeoutMs: number): Promise<QueryView> {
    const deadline = Date.now() + timeoutMs;
    let stopHeeding: (() => void) | undefined;
    try {
      for (;;) {
        // Listen before looking, so an end between the look and the wait is not missed.
        const woken = this.finishes.next(queryHandle, Math.min(500, Math.max(1, deadline - Date.now())));
        const ended = this.local.takeEnding(queryHandle);
        // Running here: its end is handed over by the executor (see LocalExecution.ended), no read needed till then.
        if (!ended && this.local.executor?.isRunning(queryHandle) && Date.now() < deadline) {
          await woken;
          continue;
        }
        // Another node may end it: it NOTIFYs only the nodes heard waiting, so say so before looking.
        if (!ended && !stopHeeding) stopHeeding = await this.finishes.heed(queryHandle);
        const view = ended ? await this.viewOfLoaded(session, queryHandle, ended.state) : await this.view(session, queryHandle);
        if (isSettled(view.state) || Date.now() >= deadline) return view;
        await woken;
      }
    } finally {
      stopHeeding?.();
    }
  }

  /**
   * The query's status as it changes, until it is settled: the first view at once, then each one
   * whose status (or queue position) differs from the last. Its end comes the moment it is
   * recorded anywhere (the finish NOTIFY); the steps before it are looked for every
   * WATCH_LOOK_MS, so two quick ones may come as the later only. Stops early when `stopped` says so.
   */
  async *watch(handle: SessionHandle, queryHandle: string, stopped: () => boolean): AsyncGenerator<QueryView> {
    const session = await this.sessions.get(handle);
    // Its end comes from whichever node records it: NOTIFYed only to the nodes heard waiting.
    const stopHeeding = await this.finishes.heed(queryHandle);
    try {
      yield* this.watchHeeded(session, queryHandle, stopped);
    } finally {
      stopHeeding();
    }
  }

  private async *watchHeeded(session: SessionState, queryHandle: string, stopped: () => boolean): AsyncGenerator<QueryView> {
    let last: string | undefined;
    while (!stopped()) {
      // Listen before looking, so an end between the look and the wait is not missed.
      const woken = this.finishes.next(queryHandle, WATCH_LOOK_MS);
      const view = await this.view(session, queryHandle);
      const seen = `${view.state.status}/${view.state.attempt}/${view.queueNumber ?? ''}/${view.state.rerun?.phase ?? ''}`;
      if (seen !== last) {
        last = seen;
        yield view;
      }
      if (isSettled(view.state)) return;
      await woken;
    }
  }

  /**
   * The session and one of its queries, both read by one statement: the two loads are asked in
   * the same turn, so the gathered tail read (StreamTailReads) carries both streams. The query is
   * shown only once the session is checked: a wrong secret still reads as an unknown session.
   */
  private async sessionAndView(handle: SessionHandle, queryHandle: string): Promise<{ session: SessionState; view: QueryView }> {
    const [session, loaded] = await Promise.all([this.sessions.get(handle), this.repository.load(queryHandle)]);
    return { session, view: await this.viewOfLoaded(session, queryHandle, loaded.state) };
  }

  private async view(session: SessionState, queryHandle: string): Promise<QueryView> {
    return this.viewOfLoaded(session, queryHandle, (await this.repository.load(queryHandle)).state);
  }

  private async viewOfLoaded(session: SessionState, queryHandle: string, state: QueryState): Promise<QueryView> {
    if (state.status === 'NEW' || state.userName !== session.userName) throw new QueryRefused({ kind: 'not-found' });
    if (state.status !== 'QUEUED') return { state };
    return { state, queueNumber: await queryWork.position(this.pool, queryHandle) };
  }

  private async earlierSubmit(userName: string, requestId: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ query_handle: string }>('SELECT query_handle FROM query_requests WHERE user_name = $1 AND request_id = $2', [
      userName,
      requestId,
    ]);
    return rows[0]?.query_handle;
  }
}

/** The longest a query may ask its in-memory result to be kept: a week. */
export const MAX_RESULT_TTL_SECONDS = 7 * 86_400;

function checkResultTtl(raw: string | undefined): void {
  if (raw === undefined) return;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_RESULT_TTL_SECONDS) {
    throw new LensError('INVALID_PARAMETER_VALUE', `${CONF.resultTtlSeconds} must be a whole number of seconds from 1 to ${MAX_RESULT_TTL_SECONDS}`);
  }
}

function priorityOf(raw: string | undefined): QueryPriority {
  const upper = raw?.toUpperCase();
  return (PRIORITIES as readonly string[]).includes(upper ?? '') ? (upper as QueryPriority) : 'NORMAL';
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === '23505';
}
