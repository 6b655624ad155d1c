import type { QuarryEvent } from '@quarry/contracts';

/** Lens's query states and the transitions it allows, exactly as Lens's state machine has them. */
export const QUERY_STATUSES = ['NEW', 'QUEUED', 'LAUNCHED', 'RUNNING', 'EXECUTED', 'FAILING', 'SUCCESSFUL', 'FAILED', 'CANCELED', 'CLOSED'] as const;
export type QueryStatus = (typeof QUERY_STATUSES)[number];

export const TRANSITIONS: Readonly<Record<QueryStatus, readonly QueryStatus[]>> = {
  NEW: ['QUEUED'],
  QUEUED: ['LAUNCHED', 'FAILING', 'CANCELED'],
  LAUNCHED: ['LAUNCHED', 'RUNNING', 'CANCELED', 'FAILING', 'EXECUTED'],
  RUNNING: ['RUNNING', 'CANCELED', 'FAILING', 'EXECUTED'],
  EXECUTED: ['EXECUTED', 'SUCCESSFUL', 'FAILING', 'CANCELED'],
  FAILING: ['QUEUED', 'FAILED'],
  SUCCESSFUL: ['CLOSED'],
  FAILED: ['CLOSED'],
  CANCELED: ['CLOSED'],
  CLOSED: [],
};

export function canMove(from: QueryStatus, to: QueryStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The events of query streams: those about one query. */
type QueryEventType = Extract<QuarryEvent, { payload: { queryHandle: string } }>['type'];

/**
 * The status a query has after each of its events: the one table that evolve, the `queries`
 * projection and the history checks read. `null`: the event leaves the status as it is (a result
 * that expires, a re-run recorded beside a SUCCESSFUL status).
 */
export const STATUS_AFTER: Readonly<Record<QueryEventType, QueryStatus | null>> = {
  QuerySubmitted: 'QUEUED',
  QueryConfUpdated: null,
  QueryLaunched: 'LAUNCHED',
  QueryRunning: 'RUNNING',
  QueryExecuted: 'EXECUTED',
  QuerySucceeded: 'SUCCESSFUL',
  QueryFailing: 'FAILING',
  QueryFailed: 'FAILED',
  QueryAttemptOrphaned: 'FAILING',
  QueryRequeued: 'QUEUED',
  QueryCanceled: 'CANCELED',
  QueryClosed: 'CLOSED',
  ResultDeleted: null,
  ResultExpired: null,
  ResultLost: null,
  ResultRerunRequested: null,
  ResultRerunLaunched: null,
  ResultRecomputed: null,
  ResultRerunFailed: null,
  ResultPersisted: null,
};

/** The status after `type`, or `undefined` for an event that is not a query event. */
export function statusAfter(type: string): QueryStatus | null | undefined {
  return (STATUS_AFTER as Readonly<Record<string, QueryStatus | null>>)[type];
}

/**
 * Whether a run of event types, from a new query on, moves only along edges of the table (each
 * status-changing event from the status before it). Returns the first wrong step, or undefined.
 */
export function firstInvalidStep(types: readonly string[]): { index: number; from: QueryStatus; to: QueryStatus | 'unknown' } | undefined {
  let status: QueryStatus = 'NEW';
  for (const [index, type] of types.entries()) {
    const to = statusAfter(type);
    if (to === undefined) return { index, from: status, to: 'unknown' };
    if (to === null) {
      if (status === 'NEW') return { index, from: status, to: 'unknown' };
      continue;
    }
    if (!canMove(status, to)) return { index, from: status, to };
    status = to;
  }
  return undefined;
}

export const FINISHED: readonly QueryStatus[] = ['SUCCESSFUL', 'FAILED', 'CANCELED', 'CLOSED'];

export function isFinished(status: QueryStatus): boolean {
  return FINISHED.includes(status);
}

/** Finished, with no re-run of its result under way: nothing more will happen by itself. */
export function isSettled(state: { status: QueryStatus; rerun?: unknown }): boolean {
  return isFinished(state.status) && state.rerun === undefined;
}
