import {
  QueryCanceled,
  QueryClosed,
  QueryConfUpdated,
  QueryExecuted,
  QueryFailed,
  QueryLaunched,
  QueryRequeued,
  QueryRunning,
  QuerySubmitted,
  QuerySucceeded,
  ResultDeleted,
  ResultExpired,
  ResultLost,
  type NewEvent,
  type PayloadOf,
  type QuarryEvent,
} from '@quarry/contracts';
import { QueryRefused } from './query.errors';
import { canMove, type QueryStatus } from './query-status';
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
  | { type: 'Rerun'; requestedBy: string; reason: string };

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
      move(state, 'LAUNCHED');
      const attempt = state.attempt + 1;
      const launched = QueryLaunched.create({
        queryHandle,
        attempt,
        sessionPublicId: state.sessionPublicId!,
        driver: state.driver!,
        executorNodeId: command.executorNodeId,
        executorIncarnation: command.executorIncarnation,
      });
      // An executor that starts the driver at once says so in the same append (LAUNCHED -> RUNNING).
      if (!command.startRunning) return [launched];
      return [launched, QueryRunning.create({ queryHandle, attempt, progress: 0, progressMessage: `running on ${command.executorNodeId}` })];
    }
    case 'ReportProgress':
      fence(state, command.attempt);
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
    case 'Fail':
      if (command.attempt !== undefined) fence(state, command.attempt);
      // Lens passes through FAILING (where a retry could re-queue); Quarry does not retry yet.
      move(state, 'FAILING');
      return [QueryFailed.create({ queryHandle, attempt: state.attempt, message: command.message })];
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
      // Not in Lens's table: Lens never lost a result it had said was there.
      if (state.status !== 'SUCCESSFUL' || !state.resultGone || state.resultGone.kind === 'deleted') {
        throw new QueryRefused({ kind: 'not-gone', status: state.status });
      }
      return [QueryRequeued.create({ queryHandle, reason: command.reason, requestedBy: command.requestedBy })];
    case 'Close':
      move(state, 'CLOSED');
      return [QueryClosed.create({ queryHandle, reason: command.reason })];
  }
}

/** An in-memory result that is still there. */
function holds(state: QueryState): boolean {
  return state.status === 'SUCCESSFUL' && state.resultAvailable && state.heldResult !== undefined;
}

/** evolve(state, event) -> state. */
export function evolve(state: QueryState, event: QuarryEvent): QueryState {
  const at = event.occurredAt;
  switch (event.type) {
    case 'QuerySubmitted': {
      const p = event.payload;
      return {
        ...INITIAL_QUERY,
        status: 'QUEUED',
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
      return { ...state, status: 'LAUNCHED', attempt: event.payload.attempt, executorNodeId: event.payload.executorNodeId, launchTime: at };
    case 'QueryRunning':
      return {
        ...state,
        status: 'RUNNING',
        progress: event.payload.progress,
        progressMessage: event.payload.progressMessage,
        driverStartTime: state.driverStartTime ?? at,
      };
    case 'QueryExecuted':
      return { ...state, status: 'EXECUTED', progress: 1, rowCount: event.payload.rowCount, driverFinishTime: at };
    case 'QuerySucceeded':
      return {
        ...state,
        status: 'SUCCESSFUL',
        resultAvailable: event.payload.resultAvailable,
        rowCount: event.payload.rowCount,
        persistedResult: event.payload.persisted,
        heldResult: event.payload.held,
        resultGone: undefined,
        finishTime: at,
      };
    case 'QueryFailed':
      return { ...state, status: 'FAILED', errorMessage: event.payload.message, finishTime: at, driverFinishTime: state.driverFinishTime ?? at };
    case 'QueryCanceled':
      return { ...state, status: 'CANCELED', finishTime: at };
    case 'QueryClosed':
      return { ...state, status: 'CLOSED', closedTime: at };
    case 'ResultDeleted':
      return { ...state, resultAvailable: false, resultGone: { kind: 'deleted' } };
    case 'ResultExpired':
      return { ...state, resultAvailable: false, resultGone: { kind: 'expired', nodeId: event.payload.nodeId } };
    case 'ResultLost':
      return { ...state, resultAvailable: false, resultGone: { kind: 'lost', nodeId: event.payload.nodeId, reason: event.payload.reason } };
    case 'QueryRequeued':
      return {
        ...state,
        status: 'QUEUED',
        progress: 0,
        progressMessage: undefined,
        heldResult: undefined,
        rerunReason: event.payload.reason,
        launchTime: undefined,
        driverStartTime: undefined,
        driverFinishTime: undefined,
        finishTime: undefined,
      };
    default:
      return state;
  }
}
