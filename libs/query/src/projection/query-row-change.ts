import type { AppendingEvent } from '@quarry/eventstore';
import { statusAfter, type QueryStatus } from '../domain/query-status';

const FINISHING = new Set(['QuerySucceeded', 'QueryFailed', 'QueryCanceled']);
/** Events after which no node holds the query's rows in memory any more. */
const RELEASING = new Set(['ResultExpired', 'ResultLost', 'ResultDeleted', 'QueryClosed', 'QueryRequeued', 'ResultRerunRequested', 'ResultPersisted']);

export interface ResultHolder {
  nodeId: string;
  incarnation: string;
  bytes: number;
}

/** What a run of one query's events changes in its `queries` row; absent fields stay as they are. */
export interface QueryRowChange {
  queryHandle: string;
  /** The row is new (QuerySubmitted): these columns, and the changes below, are inserted. */
  submitted?: { sessionPublicId: string; userName: string; queryName: string; driver: string; submittedAt: string };
  status?: QueryStatus;
  /** Which event's stream version the row records (the last one that moved it). */
  versionOf?: number;
  executorNodeId?: string;
  /** null: cleared (requeued). */
  finishedAt?: string | null;
  /** null: no node holds the rows any more. */
  holder?: ResultHolder | null;
}

/** Folds one query's events, in order, into the change of its row; undefined when they change nothing. */
export function queryRowChange(events: readonly AppendingEvent[]): QueryRowChange | undefined {
  let change: QueryRowChange | undefined;
  events.forEach((event, index) => {
    if (!('queryHandle' in event.payload)) return;
    const row: QueryRowChange = (change ??= { queryHandle: event.payload.queryHandle });
    if (event.type === 'QuerySubmitted') {
      const p = event.payload;
      row.submitted = { sessionPublicId: p.sessionPublicId, userName: p.userName, queryName: p.queryName, driver: p.driver, submittedAt: event.occurredAt };
      row.status = 'QUEUED';
      row.versionOf = index;
      return;
    }
    if ((event.type === 'QuerySucceeded' || event.type === 'ResultRecomputed') && event.payload.held) {
      const held = event.payload.held;
      row.holder = { nodeId: held.nodeId, incarnation: held.incarnation, bytes: held.bytes };
    }
    if (RELEASING.has(event.type)) {
      row.holder = null;
      row.versionOf = index;
    }
    const status = statusAfter(event.type);
    if (!status) return;
    row.status = status;
    row.versionOf = index;
    if (event.type === 'QueryLaunched') row.executorNodeId = event.payload.executorNodeId;
    if (FINISHING.has(event.type)) row.finishedAt = event.occurredAt;
    else if (status === 'QUEUED') row.finishedAt = null;
  });
  return change && (change.submitted || change.status || change.versionOf !== undefined || change.holder !== undefined) ? change : undefined;
}
