import type { QueryStatus } from './query-status';

import type { HeldResultInfo, PersistedResultInfo } from '@quarry/contracts';

export type { HeldResultInfo, PersistedResultInfo };

/** Why a result that existed is not there any more, for the answer that says so. */
export type ResultGone =
  | { kind: 'deleted' }
  | { kind: 'expired'; nodeId: string }
  | { kind: 'lost'; nodeId: string; reason: 'node-left' | 'node-down' | 'node-restarted' };

export type QueryPriority = 'VERY_HIGH' | 'HIGH' | 'NORMAL' | 'LOW' | 'VERY_LOW';

/** A query as its events make it: everything LensQuery reports. */
export interface QueryState {
  status: QueryStatus;
  handle?: string;
  sessionPublicId?: string;
  userName?: string;
  userQuery?: string;
  driver?: string;
  driverQuery?: string;
  conf: Record<string, string>;
  queryName: string;
  priority: QueryPriority;
  persistent: boolean;
  warnings: string[];
  attempt: number;
  executorNodeId?: string;
  /** The node incarnation running the current attempt, while one runs (a first run or a re-run). */
  executorIncarnation?: string;
  progress: number;
  progressMessage?: string;
  errorMessage?: string;
  rowCount?: number;
  resultAvailable: boolean;
  /** Set when the result went to the shared result store. */
  persistedResult?: PersistedResultInfo;
  /** Set when the result is held in the memory of the node that ran the query. */
  heldResult?: HeldResultInfo;
  /** An in-memory result that its draining holder moved to the store: still answered as rows. */
  movedFromMemory?: boolean;
  resultGone?: ResultGone;
  /**
   * A re-run of a SUCCESSFUL query whose result is gone: waiting for a node, or running on one.
   * The status stays SUCCESSFUL meanwhile (Lens has no edge out of it but CLOSED).
   */
  rerun?: { reason: string; phase: 'queued' | 'running' };
  /** Why the query's result was last computed again, kept once the re-run landed; the status says so. */
  rerunReason?: string;
  /** Why the last re-run failed; the result stays gone. */
  rerunError?: string;
  /** Why the query is running again after an attempt's node ended (takeover); the status says so. */
  takeoverNote?: string;
  submissionTime?: string;
  launchTime?: string;
  driverStartTime?: string;
  driverFinishTime?: string;
  finishTime?: string;
  closedTime?: string;
}

export const INITIAL_QUERY: QueryState = {
  status: 'NEW',
  conf: {},
  queryName: '',
  priority: 'NORMAL',
  persistent: false,
  warnings: [],
  attempt: 0,
  progress: 0,
  resultAvailable: false,
};
