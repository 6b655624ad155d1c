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

export const FINISHED: readonly QueryStatus[] = ['SUCCESSFUL', 'FAILED', 'CANCELED', 'CLOSED'];

export function isFinished(status: QueryStatus): boolean {
  return FINISHED.includes(status);
}
