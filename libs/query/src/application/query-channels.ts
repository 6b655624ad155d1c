/** PostgreSQL NOTIFY channels between the query service and the executors on every node. */
export const QUEUE_CHANNEL = 'quarry_query_queue';
export const CANCEL_CHANNEL = 'quarry_query_cancel';
/** A query ended (succeeded, failed or canceled): wakes EXECUTE_WITH_TIMEOUT waiters on every node. */
export const FINISHED_CHANNEL = 'quarry_query_finished';
/**
 * The advisory-lock class (with `hashtext(query handle)`) a node holds shared while it waits for a
 * query another node runs: the end's FINISHED_CHANNEL notice is sent only when someone holds it.
 */
export const FINISHED_INTEREST_CLASS = 7_041_998;

/** Who wants to hear that this query ended (Notification.onlyIfHeard). */
export const finishedInterest = (queryHandle: string) => ({ classId: FINISHED_INTEREST_CLASS, key: queryHandle });

/** Conf keys a client may set (in session params or the query's conf). */
export const CONF = {
  driver: 'lens.query.driver',
  priority: 'lens.query.priority',
  persistent: 'lens.query.enable.persistent.resultset',
  cancelOnTimeout: 'lens.query.cancel.on.timeout',
  /** Quarry's own: a retried submit with the same id returns the first handle. */
  requestId: 'quarry.query.request.id',
  /** Quarry's own: re-run the query when its in-memory result is gone instead of answering 410. */
  rerunOnLostResult: 'quarry.query.rerun.on.lost.result',
  /** Quarry's own: this query's in-memory result lives this many seconds (else QUARRY_RESULT_TTL_SECONDS). */
  resultTtlSeconds: 'quarry.query.result.ttl.seconds',
} as const;
