/** PostgreSQL NOTIFY channels between the query service and the executors on every node. */
export const QUEUE_CHANNEL = 'quarry_query_queue';
export const CANCEL_CHANNEL = 'quarry_query_cancel';
/** A query ended (succeeded, failed or canceled): wakes EXECUTE_WITH_TIMEOUT waiters on every node. */
export const FINISHED_CHANNEL = 'quarry_query_finished';

/** Conf keys a client may set (in session params or the query's conf). */
export const CONF = {
  driver: 'lens.query.driver',
  priority: 'lens.query.priority',
  persistent: 'lens.query.enable.persistent.resultset',
  cancelOnTimeout: 'lens.query.cancel.on.timeout',
  /** Quarry's own: a retried submit with the same id returns the first handle. */
  requestId: 'quarry.query.request.id',
} as const;
