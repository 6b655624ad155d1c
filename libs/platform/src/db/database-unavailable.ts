/** PostgreSQL's "the server is going away or not there yet" (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now). */
const SHUTDOWN_CODES = new Set(['57P01', '57P02', '57P03']);
/** A connection that was open and broke. */
const BROKEN_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);
/** A connection that could not be opened. */
const UNREACHABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT']);
/** node-postgres's own words for a connection that broke. */
const LOST_MESSAGES = [/^Connection terminated unexpectedly$/, /^Client has encountered a connection error and is not queryable$/];
/** node-postgres's and pg-pool's words for a connection that could not be had in time. */
const TIMEOUT_MESSAGES = [/^Connection terminated due to connection timeout$/, /^timeout exceeded when trying to connect$/];

function codeAndMessage(error: unknown): { code?: string; message?: string } {
  if (typeof error !== 'object' || error === null) return {};
  const { code, message } = error as { code?: unknown; message?: unknown };
  return { code: typeof code === 'string' ? code : undefined, message: typeof message === 'string' ? message : undefined };
}

/**
 * Whether `error` says the database ended or broke a connection that was open (a restart, a
 * failover, pg_terminate_backend): PostgreSQL's 57P01-57P03 and class 08, a reset socket,
 * node-postgres's "Connection terminated unexpectedly". A fresh connection may well work at once.
 */
export function isConnectionLost(error: unknown): boolean {
  const { code, message } = codeAndMessage(error);
  if (code && (SHUTDOWN_CODES.has(code) || BROKEN_SOCKET_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  return message !== undefined && LOST_MESSAGES.some((pattern) => pattern.test(message));
}

/**
 * Whether `error` says a database cannot be reached right now rather than refusing the
 * statement: a lost connection (above), a refused or timed-out one, or no pooled connection free
 * in time. Asking again shortly may work. Only the error itself is read, not its cause: a wrapped
 * socket error comes from something else (fetch, Kafka).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (isConnectionLost(error)) return true;
  const { code, message } = codeAndMessage(error);
  if (code && UNREACHABLE_SOCKET_CODES.has(code)) return true;
  return message !== undefined && TIMEOUT_MESSAGES.some((pattern) => pattern.test(message));
}
