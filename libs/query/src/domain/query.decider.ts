import {
  QueryAttemptOrphaned,
  QueryCanceled,
  QueryClosed,
  QueryConfUpdated,
  QueryExecuted,
  QueryFailed,
  QueryFailing,
  QueryLaunched,
  QueryRequeued,
  QueryRunning,
  QuerySubmitted,
  QuerySucceeded,
  ResultDeleted,
  ResultExpired,
  ResultLost,
  ResultPersisted,
  ResultRecomputed,
  ResultRerunFailed,
  ResultRerunLaunched,
  ResultRerunRequested,
  type NewEvent,
  type OrphanReason,
  type PayloadOf,
  type QuarryEvent,
} from '@quarry/contracts';
import { QueryRefused } from './query.errors';
import { canMove, statusAfter, type QueryStatus } from './query-status';
import { INITIAL_QUERY, type HeldResultInfo, type PersistedResultInfo, type QueryState } from './query.state';

export type QueryCommand =
  | ({ type: 'SubmitQuery' } & PayloadOf<typeof QuerySubmitted>)
  | { type: 'UpdateConf'; conf: Record<string, string> }
  | { type: 'LaunchQuery'; executorNodeId: string; executorIncarnation: string; startRunning?: boolean }
  | { type: 'ReportProgress'; attempt: number; progress: number; progressMessage: string }
  | { type: 'MarkExecuted'; attempt: number; rowCount: number }
  | { type: 'Succeed'; attempt: number; resultAvailable: boolean; rowCount: number }
  /** EXECUTED then SUCCESSFUL in one append, for a driver whose result is complete when it ends. */
  | { type: 'Complete'; attempt: number; resultAvailable: boolean; rowCount: number; persisted?: PersistedResultInfo; held?: HeldResultInfo }
  | { type: 'Fail'; attempt?: number; message: string }
  | { type: 'Cancel'; canceledBy: string }
  | { type: 'Close'; reason: 'retention' | 'client' }
  | { type: 'DeleteResult'; deletedBy: string }
  /** From the holder when the result's time ran out; a no-op unless that attempt's rows are still held. */
  | { type: 'ExpireResult'; attempt: number; nodeId: string }
  /** The holder's incarnation ended; a no-op unless that incarnation still holds the result. */
  | { type: 'LoseResult'; incarnation: string; reason: 'node-left' | 'node-down' | 'node-restarted' }
  | { type: 'Rerun'; requestedBy: string; reason: string }
  /**
   * The node incarnation running the current attempt ended without finishing it: run the query
   * again under a new attempt. A no-op unless that incarnation runs the current attempt.
   */
  | { type: 'TakeOver'; nodeId: string; incarnation: string; reason: OrphanReason; takenOverBy: string }
  /** The holder moved its in-memory result to the shared store (draining); a no-op unless it still holds that attempt's rows. */
  | { type: 'PersistHeldResult'; incarnation: string; attempt: number; persisted: PersistedResultInfo };

function move(state: QueryState, to: QueryStatus): void {
  if (state.status === 'NEW' && to !== 'QUEUED') throw new QueryRefused({ kind: 'not-found' });
  if (!canMove(state.status, to)) throw new QueryRefused({ kind: 'transition', from: state.status, to });
}

/** A write from an executor whose attempt is not the query's current one is refused (fencing). */
function fence(state: QueryState, attempt: number): void {
  if (attempt !== state.attempt) throw new QueryRefused({ kind: 'stale-attempt', attempt, current: state.attempt });
}

/** decide(command, state) -> events, following Lens's transition table exactly. */
export function decide(command: QueryCommand, state: QueryState): NewEvent[] {
  const queryHandle = state.handle!;
  switch (command.type) {
    case 'SubmitQuery': {
      move(state, 'QUEUED');
      const { type: _type, ...payload } = command;
      return [QuerySubmitted.create(payload)];
    }
    case 'UpdateConf':
      if (state.status !== 'QUEUED') throw new QueryRefused({ kind: 'transition', from: state.status, to: 'QUEUED' });
      return [QueryConfUpdated.create({ queryHandle, conf: command.conf })];
    case 'LaunchQuery': {
      const attempt = state.attempt + 1;
      const executor = {
        queryHandle,
        attempt,
        sessionPublicId: state.sessionPublicId!,
        driver: state.driver!,
        executorNodeId: command.executorNodeId,
        executorIncarnation: command.executorIncarnation,
      };
      if (rerunWaiting(state)) return [ResultRerunLaunched.create(executor)];
      move(state, 'LAUNCHED');
      const launched = QueryLaunched.create(executor);
      // An executor that starts the driver at once says so in the same append (LAUNCHED -> RUNNING).
      if (!command.startRunning) return [launched];
      return [launched, QueryRunning.create({ queryHandle, attempt, progress: 0, progressMessage: `running on ${command.executorNodeId}` })];
    }
    case 'ReportProgress':
      fence(state, command.attempt);
      if (rerunRunning(state)) return [];
      move(state, 'RUNNING');
      return [QueryRunning.create({ queryHandle, attempt: command.attempt, progress: command.progress, progressMessage: command.progressMessage })];
    case 'MarkExecuted':
      fence(state, command.attempt);
      move(state, 'EXECUTED');
      return [QueryExecuted.create({ queryHandle, attempt: command.attempt, rowCount: command.rowCount })];
    case 'Succeed':
      fence(state, command.attempt);
      move(state, 'SUCCESSFUL');
      return [QuerySucceeded.create({ queryHandle, attempt: command.attempt, resultAvailable: command.resultAvailable, rowCount: command.rowCount })];
    case 'Complete':
      fence(state, command.attempt);
      if (rerunRunning(state)) {
        const { attempt, rowCount, persisted, held } = command;
        return [ResultRecomputed.create({ queryHandle, attempt, rowCount, ...(persisted && { persisted }), ...(held && { held }) })];
      }
      move(state, 'EXECUTED');
      if (!canMove('EXECUTED', 'SUCCESSFUL')) throw new QueryRefused({ kind: 'transition', from: 'EXECUTED', to: 'SUCCESSFUL' });
      return [
        QueryExecuted.create({ queryHandle, attempt: command.attempt, rowCount: command.rowCount }),
        QuerySucceeded.create({
          queryHandle,
          attempt: command.attempt,
          resultAvailable: command.resultAvailable,
          rowCount: command.rowCount,
          ...(command.persisted && { persisted: command.persisted }),
          ...(command.held && { held: command.held }),
        }),
      ];
    case 'Fail': {
      if (command.attempt !== undefined) fence(state, command.attempt);
      const failure = { queryHandle, attempt: state.attempt, message: command.message };
      if (rerunRunning(state)) return [ResultRerunFailed.create(failure)];
      // Lens's path: FAILING, then FAILED (a takeover goes FAILING, then QUEUED).
      move(state, 'FAILING');
      return [QueryFailing.create(failure), QueryFailed.create(failure)];
    }
    case 'TakeOver':
      return takeOver(command, state);
    case 'PersistHeldResult':
      if (!holds(state) || state.heldResult?.incarnation !== command.incarnation || state.attempt !== command.attempt) return [];
      return [ResultPersisted.create({ queryHandle, attempt: command.attempt, nodeId: state.heldResult.nodeId, persisted: command.persisted })];
    case 'Cancel':
      if (state.status === 'NEW') throw new QueryRefused({ kind: 'not-found' });
      if (!canMove(state.status, 'CANCELED')) throw new QueryRefused({ kind: 'not-running', status: state.status });
      return [QueryCanceled.create({ queryHandle, canceledBy: command.canceledBy })];
    case 'DeleteResult':
      if (!state.resultAvailable) throw new QueryRefused({ kind: 'no-result', status: state.status });
      return [ResultDeleted.create({ queryHandle, deletedBy: command.deletedBy })];
    case 'ExpireResult':
      if (!holds(state) || state.attempt !== command.attempt) return [];
      return [ResultExpired.create({ queryHandle, attempt: command.attempt, nodeId: command.nodeId })];
    case 'LoseResult': {
      const held = state.heldResult;
      if (!holds(state) || held?.incarnation !== command.incarnation) return [];
      return [ResultLost.create({ queryHandle, attempt: state.attempt, nodeId: held.nodeId, incarnation: held.incarnation, reason: command.reason })];
    }
    case 'Rerun':
      // Beside the status, never through it: Lens has no edge out of SUCCESSFUL but CLOSED.
      if (state.status !== 'SUCCESSFUL' || !state.resultGone || state.resultGone.kind === 'deleted' || state.rerun) {
        throw new QueryRefused({ kind: 'not-gone', status: state.status });
      }
      return [ResultRerunRequested.create({ queryHandle, reason: command.reason, requestedBy: command.requestedBy })];
    case 'Close':
      move(state, 'CLOSED');
      return [QueryClosed.create({ queryHandle, reason: command.reason })];
  }
}

const RUNNING_ATTEMPT: readonly QueryStatus[] = ['LAUNCHED', 'RUNNING', 'EXECUTED'];

/**
 * An attempt whose node ended goes Lens's retry path (FAILING, then QUEUED) with a new attempt to
 * come; a re-run's attempt is simply asked for again. Only the incarnation that runs the current
 * attempt can be taken over, so a second notice of the same death decides nothing.
 */
function takeOver(command: Extract<QueryCommand, { type: 'TakeOver' }>, state: QueryState): NewEvent[] {
  const queryHandle = state.handle!;
  if (!state.executorIncarnation || state.executorIncarnation !== command.incarnation) return [];
  const { nodeId, incarnation, reason, takenOverBy } = command;
  const why = `attempt ${state.attempt} on node ${nodeId} ${ORPHANED[reason]}; node ${takenOverBy} put the query back in the queue`;
  if (RUNNING_ATTEMPT.includes(state.status)) {
    return [
      QueryAttemptOrphaned.create({ queryHandle, attempt: state.attempt, nodeId, incarnation, reason, takenOverBy }),
      QueryRequeued.create({ queryHandle, reason: why, requestedBy: takenOverBy }),
    ];
  }
  if (rerunRunning(state)) {
    return [ResultRerunRequested.create({ queryHandle, reason: why, requestedBy: takenOverBy, orphaned: { attempt: state.attempt, nodeId, incarnation, reason } })];
  }
  return [];
}

const ORPHANED: Record<OrphanReason, string> = {
  'node-down': 'was lost: the node was declared down',
  'node-left': 'was left unfinished when the node stopped',
  'node-restarted': 'was lost: the node restarted',
  drain: 'was handed over: the node is draining',
};

function rerunWaiting(state: QueryState): boolean {
  return state.status === 'SUCCESSFUL' && state.rerun?.phase === 'queued';
}

function rerunRunning(state: QueryState): boolean {
  return state.status === 'SUCCESSFUL' && state.rerun?.phase === 'running';
}

/** An in-memory result that is still there. */
function holds(state: QueryState): boolean {
  return state.status === 'SUCCESSFUL' && state.resultAvailable && state.heldResult !== undefined;
}

/** evolve(state, event) -> state; the status after each event comes from the one table (STATUS_AFTER). */
export function evolve(state: QueryState, event: QuarryEvent): QueryState {
  const next = fields(state, event);
  const status = statusAfter(event.type) ?? next.status;
  if (next === state) return status === state.status ? state : { ...state, status };
  // `fields` built a new object for this event alone: set its status there rather than copy it again.
  (next as { status: QueryState['status'] }).status = status;
  return next;
}

/** Everything an event changes besides the status. */
function fields(state: QueryState, event: QuarryEvent): QueryState {
  const at = event.occurredAt;
  switch (event.type) {
    case 'QuerySubmitted': {
      const p = event.payload;
      return {
        ...INITIAL_QUERY,
        handle: p.queryHandle,
        sessionPublicId: p.sessionPublicId,
        userName: p.userName,
        userQuery: p.userQuery,
        driver: p.driver,
        driverQuery: p.driverQuery,
        conf: p.conf,
        queryName: p.queryName,
        priority: p.priority,
        persistent: p.persistent,
        warnings: p.warnings,
        submissionTime: at,
      };
    }
    case 'QueryConfUpdated':
      return { ...state, conf: event.payload.conf };
    case 'QueryLaunched':
      return {
        ...state,
        attempt: event.payload.attempt,
        executorNodeId: event.payload.executorNodeId,
        executorIncarnation: event.payload.executorIncarnation,
        launchTime: at,
      };
    case 'QueryRunning':
      return { ...state, progress: event.payload.progress, progressMessage: event.payload.progressMessage, driverStartTime: state.driverStartTime ?? at };
    case 'QueryExecuted':
      return { ...state, progress: 1, rowCount: event.payload.rowCount, driverFinishTime: at };
    case 'QuerySucceeded':
      return {
        ...state,
        executorIncarnation: undefined,
        resultAvailable: event.payload.resultAvailable,
        rowCount: event.payload.rowCount,
        persistedResult: event.payload.persisted,
        heldResult: event.payload.held,
        resultGone: undefined,
        finishTime: at,
      };
    case 'QueryFailing':
      return { ...state, errorMessage: event.payload.message };
    case 'QueryFailed':
      return { ...state, executorIncarnation: undefined, errorMessage: event.payload.message, finishTime: at, driverFinishTime: state.driverFinishTime ?? at };
    case 'QueryAttemptOrphaned':
      return { ...state, executorIncarnation: undefined };
    case 'QueryRequeued':
      return {
        ...state,
        executorIncarnation: undefined,
        progress: 0,
        progressMessage: undefined,
        takeoverNote: event.payload.reason,
        launchTime: undefined,
        driverStartTime: undefined,
        driverFinishTime: undefined,
        finishTime: undefined,
      };
    case 'QueryCanceled':
      return { ...state, executorIncarnation: undefined, finishTime: at };
    case 'QueryClosed':
      return { ...state, closedTime: at };
    case 'ResultDeleted':
      return { ...state, resultAvailable: false, resultGone: { kind: 'deleted' } };
    case 'ResultExpired':
      return { ...state, resultAvailable: false, resultGone: { kind: 'expired', nodeId: event.payload.nodeId } };
    case 'ResultLost':
      return { ...state, resultAvailable: false, resultGone: { kind: 'lost', nodeId: event.payload.nodeId, reason: event.payload.reason } };
    case 'ResultRerunRequested':
      return {
        ...state,
        executorIncarnation: undefined,
        heldResult: undefined,
        rerun: { reason: event.payload.reason, phase: 'queued' },
        rerunReason: event.payload.reason,
        rerunError: undefined,
      };
    case 'ResultRerunLaunched':
      return {
        ...state,
        attempt: event.payload.attempt,
        executorNodeId: event.payload.executorNodeId,
        executorIncarnation: event.payload.executorIncarnation,
        rerun: state.rerun && { ...state.rerun, phase: 'running' },
      };
    case 'ResultRecomputed':
      return {
        ...state,
        executorIncarnation: undefined,
        rerun: undefined,
        resultAvailable: true,
        rowCount: event.payload.rowCount,
        persistedResult: event.payload.persisted,
        heldResult: event.payload.held,
        resultGone: undefined,
      };
    case 'ResultRerunFailed':
      return { ...state, executorIncarnation: undefined, rerun: undefined, rerunError: event.payload.message };
    case 'ResultPersisted':
      return { ...state, heldResult: undefined, persistedResult: event.payload.persisted, movedFromMemory: true };
    default:
      return state;
  }
}
