import { multipartForm, type HttpAnswer, type HttpRequest, type KeepAliveClient } from './http-client';
import { sleep } from './stats';

/**
 * The Lens REST calls the benches make, built and checked the way Lens clients do: the session
 * handle is kept as the raw XML answer of POST /lensapi/session and sent back verbatim.
 */
export interface OpenedSession {
  xml: string;
  publicId: string;
}

/** POST /lensapi/session (multipart `username`, `password`; authentication `none`). */
export function openSessionRequest(userName: string, password = ''): HttpRequest {
  const form = multipartForm({ username: userName, password });
  return { method: 'POST', path: '/lensapi/session', headers: { 'content-type': form.contentType, accept: 'application/xml' }, body: form.body };
}

/** Opens a session; throws unless the answer is 200 with a publicId. `ms` is the request's time. */
export async function openSession(client: KeepAliveClient, userName: string): Promise<OpenedSession & { ms: number }> {
  const answer = await client.request(openSessionRequest(userName));
  const publicId = /<publicId>([^<]+)<\/publicId>/.exec(answer.body)?.[1];
  if (answer.status !== 200 || !publicId) throw new Error(`opening a session on ${client.baseUrl} failed: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
  return { xml: answer.body, publicId, ms: answer.ms };
}

/** `rows` rows of three columns (integer, text, numeric), computed on the warehouse: the big results the benches fetch. */
export const rowsQuery = (rows: number) => `SELECT g AS id, 'row ' || g AS label, g * 0.5 AS half FROM generate_series(1, ${rows}) g`;

export type QueryOperation = 'EXECUTE' | 'EXECUTE_WITH_TIMEOUT' | 'EXPLAIN' | 'ESTIMATE';

/** POST /lensapi/queryapi/queries (multipart `sessionid`, `query`, `operation`, plus `extra` fields such as `timeoutmillis`), JSON answer. */
export function submitQueryRequest(session: OpenedSession, query: string, operation: QueryOperation, extra: Record<string, string> = {}): HttpRequest {
  const form = multipartForm({ sessionid: session.xml, query, operation, ...extra });
  return { method: 'POST', path: '/lensapi/queryapi/queries', headers: { 'content-type': form.contentType, accept: 'application/json' }, body: form.body };
}

/** GET /lensapi/queryapi/queries/{handle}?sessionid=…, JSON answer. */
export function queryStatusRequest(session: OpenedSession, queryHandle: string): HttpRequest {
  return { path: `/lensapi/queryapi/queries/${queryHandle}?sessionid=${encodeURIComponent(session.xml)}`, headers: { accept: 'application/json' } };
}

function json<T>(answer: HttpAnswer, what: string): T {
  if (answer.status !== 200) throw new Error(`${what}: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
  try {
    return JSON.parse(answer.body) as T;
  } catch {
    throw new Error(`${what}: not JSON: ${answer.body.slice(0, 300)}`);
  }
}

/** The handle an EXECUTE answered: `{"lensAPIResult":{"data":{"type":"queryHandle","handleId":…}}}`. */
export function queryHandleFrom(answer: HttpAnswer): string {
  const handle = json<{ lensAPIResult?: { data?: { handleId?: string } } }>(answer, 'submitting a query').lensAPIResult?.data?.handleId;
  if (!handle) throw new Error(`submitting a query: no handleId in ${answer.body.slice(0, 300)}`);
  return handle;
}

export interface LensQueryStatus {
  status: string;
  errorMessage?: string;
  isResultSetAvailable?: boolean;
}

/** What GET queries/{handle} answered: `{"lensQuery":{…, "selectedDriverName", "status":{"status":…}}}`. */
export function lensQueryFrom(answer: HttpAnswer): { status: LensQueryStatus; selectedDriverName?: string } {
  const lensQuery = json<{ lensQuery?: { status?: LensQueryStatus; selectedDriverName?: string } }>(answer, 'reading a query status').lensQuery;
  if (!lensQuery?.status?.status) throw new Error(`reading a query status: no status in ${answer.body.slice(0, 300)}`);
  return { status: lensQuery.status, selectedDriverName: lensQuery.selectedDriverName };
}

/** Lens's query states a query does not leave. */
export const FINISHED_STATUSES: readonly string[] = ['SUCCESSFUL', 'FAILED', 'CANCELED', 'CLOSED'];

interface ResultCell {
  type?: string;
  value?: unknown;
}

/**
 * What an EXECUTE_WITH_TIMEOUT answered (`lensAPIResult.data` of type queryHandleWithResultSet):
 * the status and, when SUCCESSFUL, the rows inline, as plain values.
 */
export function inlineResultFrom(answer: HttpAnswer): { handle?: string; status: string; errorMessage?: string; rows?: unknown[][] } {
  const data = json<{
    lensAPIResult?: { data?: { queryHandle?: { handleId?: string }; status?: LensQueryStatus; result?: { rows?: { values?: (ResultCell | null)[] }[] } } };
  }>(answer, 'EXECUTE_WITH_TIMEOUT').lensAPIResult?.data;
  if (!data?.status?.status) throw new Error(`EXECUTE_WITH_TIMEOUT: no status in ${answer.body.slice(0, 300)}`);
  return {
    handle: data.queryHandle?.handleId,
    status: data.status.status,
    errorMessage: data.status.errorMessage,
    rows: data.result?.rows?.map((r) => (r.values ?? []).map((cell) => cell?.value ?? null)),
  };
}

/** A Lens conf document (the multipart `conf` field of a submit): `<conf><properties><entry>…`. */
export function lensConf(entries: Record<string, string>): string {
  const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<conf><properties>${Object.entries(entries)
    .map(([key, value]) => `<entry><key>${xml(key)}</key><value>${xml(value)}</value></entry>`)
    .join('')}</properties></conf>`;
}

/**
 * GET queries/{handle} on `client` every `intervalMs` until the query is SUCCESSFUL; throws if it
 * ends otherwise, outlives `deadlineMs` or `signal` is aborted. Resolves with the status and the polls made.
 */
export async function awaitSuccess(
  client: KeepAliveClient,
  session: OpenedSession,
  queryHandle: string,
  options: { intervalMs: number; deadlineMs: number; signal?: AbortSignal },
): Promise<{ status: LensQueryStatus; selectedDriverName?: string; polls: number }> {
  const t0 = performance.now();
  for (let polls = 1; ; polls++) {
    const { status, selectedDriverName } = lensQueryFrom(await client.request(queryStatusRequest(session, queryHandle)));
    if (status.status === 'SUCCESSFUL') return { status, selectedDriverName, polls };
    if (FINISHED_STATUSES.includes(status.status)) throw new Error(`query ${queryHandle} ended ${status.status}: ${status.errorMessage ?? ''}`);
    if (performance.now() - t0 > options.deadlineMs) throw new Error(`query ${queryHandle} is still ${status.status} after ${options.deadlineMs} ms`);
    options.signal?.throwIfAborted();
    await sleep(options.intervalMs);
  }
}

/** GET queries/{handle}/resultset?sessionid=…[&fromindex=…&fetchsize=…], JSON answer. */
export function resultSetRequest(session: OpenedSession, queryHandle: string, page?: { fromIndex: number; fetchSize: number }): HttpRequest {
  const paging = page ? `&fromindex=${page.fromIndex}&fetchsize=${page.fetchSize}` : '';
  return { path: `/lensapi/queryapi/queries/${queryHandle}/resultset?sessionid=${encodeURIComponent(session.xml)}${paging}`, headers: { accept: 'application/json' } };
}

/** GET queries/{handle}/httpresultset?sessionid=…: the persisted result as a download. */
export function httpResultSetRequest(session: OpenedSession, queryHandle: string): HttpRequest {
  return { path: `/lensapi/queryapi/queries/${queryHandle}/httpresultset?sessionid=${encodeURIComponent(session.xml)}` };
}

/** DELETE queries/{handle}/resultset?sessionid=…: removes the result everywhere. */
export function deleteResultSetRequest(session: OpenedSession, queryHandle: string): HttpRequest {
  return { method: 'DELETE', path: `/lensapi/queryapi/queries/${queryHandle}/resultset?sessionid=${encodeURIComponent(session.xml)}`, headers: { accept: 'application/json' } };
}

/** What GET resultset answered for a persisted result: `{"persistentQueryResult":{persistedURI, numRows, fileSize, httpResultUrl}}`. */
export function persistentResultFrom(answer: HttpAnswer): { persistedURI: string; numRows: number; fileSize: number; httpResultUrl: string } {
  const result = json<{ persistentQueryResult?: { persistedURI: string; numRows: number; fileSize: number; httpResultUrl: string } }>(answer, 'reading a persisted result set')
    .persistentQueryResult;
  if (!result) throw new Error(`reading a persisted result set: no persistentQueryResult in ${answer.body.slice(0, 300)}`);
  return result;
}

/**
 * The rows of a GET resultset answer for an in-memory result (`{"inMemoryQueryResult":{"rows":[{"values":[…]}]}}`),
 * as plain values. A page past the last row is `{"inMemoryQueryResult":{}}` (no `rows`, as Lens writes empty lists).
 */
export function inMemoryRowsFrom(answer: HttpAnswer): unknown[][] {
  const result = json<{ inMemoryQueryResult?: { rows?: { values?: (ResultCell | null)[] }[] } }>(answer, 'reading a result set page').inMemoryQueryResult;
  if (!result) throw new Error(`reading a result set page: no inMemoryQueryResult in ${answer.body.slice(0, 300)}`);
  return (result.rows ?? []).map((r) => (r.values ?? []).map((cell) => cell?.value ?? null));
}
