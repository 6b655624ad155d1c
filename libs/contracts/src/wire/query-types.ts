import type { LensConf, QueryHandle } from './lens-types';

/*
 * What GET queryapi/queries/{handle} answers, with field names and order as Lens 2.7/2.8 wrote them
 * (sources under lens-api/src/main/java/org/apache/lens/api/; unchanged between 2.7.0 and 2.8).
 * Lens's own JAXB output of these types is in lens-api/src/test/resources/toString/.
 */

/** Priority.java. */
export const PRIORITIES = ['VERY_HIGH', 'HIGH', 'NORMAL', 'LOW', 'VERY_LOW'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** query/QueryStatus.java, enum Status. */
export const QUERY_STATES = [
  'NEW',
  'QUEUED',
  'LAUNCHED',
  'RUNNING',
  'EXECUTED',
  'FAILING',
  'SUCCESSFUL',
  'FAILED',
  'CANCELED',
  'CLOSED',
] as const;
export type QueryState = (typeof QUERY_STATES)[number];

/**
 * query/QueryStatus.java: root `queryStatus`. `progress` (0 to 1) and `isResultSetAvailable` are
 * Java primitives, so always written. The class binds its annotated fields first (progress,
 * status, statusMessage, isResultSetAvailable), then its getter/setter pairs in name order
 * (errorMessage, progressMessage, queueNumber). Its lensErrorTO has a getter only and no
 * annotation, so Lens never put it on the wire; it is not modelled.
 */
export interface QueryStatus {
  progress: number;
  status: QueryState;
  statusMessage?: string;
  isResultSetAvailable: boolean;
  errorMessage?: string;
  progressMessage?: string;
  /** Place in the queue while QUEUED. */
  queueNumber?: number;
}

/** query/FailedAttempt.java: one earlier try of a query that was retried (FAILING → QUEUED). */
export interface FailedAttempt {
  driverName?: string;
  progress: number;
  progressMessage?: string;
  errorMessage?: string;
  /** Epoch milliseconds. */
  driverStartTime?: number;
  driverFinishTime?: number;
}

/**
 * query/LensQuery.java: root `lensQuery`. The six times are Java longs in epoch milliseconds, 0
 * when not reached (closedTime stayed 0 in Lens). `priority` is left out until one is decided.
 */
export interface LensQuery {
  queryHandle: QueryHandle;
  userQuery: string;
  submittedUser: string;
  priority?: Priority;
  isPersistent: boolean;
  selectedDriverName?: string;
  driverQuery?: string;
  status: QueryStatus;
  resultSetPath?: string;
  driverOpHandle?: string;
  queryConf: LensConf;
  submissionTime: number;
  launchTime: number;
  driverStartTime: number;
  driverFinishTime: number;
  finishTime: number;
  closedTime: number;
  queryName?: string;
  /** Oldest first; left out when there were none. */
  failedAttempts?: FailedAttempt[];
}
