import { text } from 'node:stream/consumers';
import { Agent, request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { LENS_ERRORS, LensError, lensErrorNameOf } from '@quarry/contracts';
import { CLUSTER_SECRET_HEADER, PEER_IDLE_MS } from '@quarry/platform';
import type { ResultPage } from '../held/held-results';

/**
 * The holder's routes, for peers only: `<route>/<handle>` serves a page of an in-memory result it
 * holds as plain JSON, `<route>/<handle>/resultset` the client's GET .../resultset as Lens renders it.
 */
export const HELD_RESULT_ROUTE = 'internal/results';

/**
 * Connections between nodes are reused: a page fetch should not pay for a TCP handshake. An idle
 * one is closed before the peer's server would close it (PEER_IDLE_MS).
 */
const holderAgent = new Agent({ keepAlive: true, maxSockets: 32, timeout: PEER_IDLE_MS });

/** The holder's guard refusing the secret (a 403 a result route itself never answers with this code). */
const NOT_AUTHORIZED = LENS_ERRORS.NOT_AUTHORIZED.code;

/** What a reused connection says when the peer closed it just as the request went out. */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE']);

export interface Holder {
  nodeId: string;
  /** Its advertised URL (QUARRY_ADVERTISED_URL): only its origin is used. */
  url: string;
}

/**
 * A request to a holder: a route of ours (built from a validated handle, never from a client's
 * request target) and query values re-encoded from parsed ones.
 */
export interface HolderRoute {
  queryHandle: string;
  path: string;
  query: Record<string, string>;
}

/** A page of a held result as plain JSON values (EXECUTE_WITH_TIMEOUT renders them itself). */
export function heldRowsRoute(queryHandle: string, query: Record<string, string>): HolderRoute {
  return { queryHandle, path: `/${HELD_RESULT_ROUTE}/${queryHandle}`, query };
}

/** The client's GET .../resultset, answered by the holder as it would answer the client. */
export function heldResultsetRoute(queryHandle: string, query: Record<string, string>): HolderRoute {
  return { queryHandle, path: `/${HELD_RESULT_ROUTE}/${queryHandle}/resultset`, query };
}

/** The public GET .../resultset on the holder, where a 307 sends the client. */
export function resultsetRoute(queryHandle: string, query: Record<string, string>): HolderRoute {
  return { queryHandle, path: `/lensapi/queryapi/queries/${queryHandle}/resultset`, query };
}

/** The holder's URL for a route: its advertised origin, the route's path, the query re-encoded. */
export function holderUrl(holder: Holder, route: HolderRoute): URL {
  const url = new URL(route.path, new URL(holder.url).origin);
  for (const [name, value] of Object.entries(route.query)) url.searchParams.set(name, value);
  return url;
}

/**
 * A GET to the node holding a result, with the cluster secret (its internal routes never forward
 * again). Resolves with the holder's answer as it comes; a holder that does not answer, or
 * refuses the secret, is a 503 that says so.
 */
export async function askHolder(holder: Holder, route: HolderRoute, clusterSecret: string | undefined, accept?: string): Promise<IncomingMessage> {
  if (clusterSecret === undefined) {
    throw new LensError(
      'RESULT_UNAVAILABLE',
      `node ${holder.nodeId} holds the result of query ${route.queryHandle}, and this node runs alone (no QUARRY_CLUSTER_SECRET), so it cannot ask it; ` +
        'give every node the same QUARRY_CLUSTER_SECRET',
    );
  }
  const url = holderUrl(holder, route);
  const headers = { [CLUSTER_SECRET_HEADER]: clusterSecret, ...(accept && { accept }) };
  let answer: IncomingMessage;
  try {
    answer = await get(url, headers, holderAgent).catch((error: Error) => {
      // A GET is safe to send again; on a new connection it cannot meet the same fate.
      if (error instanceof StaleConnection) return get(url, headers, false);
      throw error;
    });
  } catch (error) {
    throw holderUnreachable(holder.nodeId, route.queryHandle, error as Error);
  }
  if (answer.statusCode === 403 && answer.headers['x-lens-error-code'] === String(NOT_AUTHORIZED)) {
    answer.resume();
    throw secretRefused(holder.nodeId, route.queryHandle);
  }
  return answer;
}

/** A reused keep-alive connection that failed before any byte of an answer: the peer had closed it. */
class StaleConnection extends Error {}

function get(url: URL, headers: IncomingHttpHeaders, agent: Agent | false): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    const outgoing = request(url, { method: 'GET', agent, headers }, resolve);
    outgoing.on('error', (error: Error & { code?: string }) => {
      reject(outgoing.reusedSocket && STALE_CONNECTION_CODES.has(error.code ?? '') ? new StaleConnection(error.message, { cause: error }) : error);
    });
    outgoing.end();
  });
}

/**
 * Asks the holder for a page of a result it holds. The caller's session id goes along: the
 * holder checks the owner exactly as for the client's own request.
 */
export async function fetchHeldPage(holder: Holder, queryHandle: string, params: { sessionId: string; from: number; size: number; clusterSecret: string | undefined }): Promise<ResultPage> {
  const route = heldRowsRoute(queryHandle, { sessionid: params.sessionId, fromindex: String(params.from), fetchsize: String(params.size) });
  const answer = await askHolder(holder, route, params.clusterSecret, 'application/json');
  const body = await text(answer);
  if (answer.statusCode === 200) return JSON.parse(body) as ResultPage;
  throw errorFrom(answer.statusCode ?? 0, body, holder.nodeId);
}

/** 503: the holder is listed as up but does not answer; the failure detector soon says which. */
function holderUnreachable(nodeId: string, queryHandle: string, error: Error): LensError {
  const cause = (error.cause ?? error) as { code?: string; message: string };
  return new LensError(
    'RESULT_UNAVAILABLE',
    `node ${nodeId} holds the result of query ${queryHandle} but does not answer (${cause.code ?? cause.message}); ` +
      'if it is down, asking again shortly says the result is gone',
  );
}

/** 503: the holder does not take this node's secret; nothing of the result came back. */
function secretRefused(nodeId: string, queryHandle: string): LensError {
  return new LensError(
    'RESULT_UNAVAILABLE',
    `node ${nodeId} holds the result of query ${queryHandle} but refuses this node's QUARRY_CLUSTER_SECRET; every node of a cluster needs the same one`,
  );
}

/** The holder's Lens error, as it said it; anything unreadable is reported as unavailable. */
function errorFrom(status: number, body: string, nodeId: string): LensError {
  try {
    const { code, message } = JSON.parse(body) as { code: number; message: string };
    const name = lensErrorNameOf(code);
    if (name) return new LensError(name, message);
  } catch {
    // fall through
  }
  return new LensError('RESULT_UNAVAILABLE', `node ${nodeId} answered ${status} for the result`);
}
