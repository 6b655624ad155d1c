import { text } from 'node:stream/consumers';
import { Agent, request, type IncomingMessage } from 'node:http';
import { LensError, lensErrorNameOf } from '@quarry/contracts';
import type { ResultPage } from './held-results';

/** The holder's route serving a page of the in-memory result it holds, as plain JSON. */
export const HELD_RESULT_ROUTE = 'internal/results';
/** Set on requests between nodes, so a holder never forwards again. */
export const FORWARDED_HEADER = 'x-quarry-forwarded-by';

/** Connections between nodes are reused: a page fetch should not pay for a TCP handshake. */
const holderAgent = new Agent({ keepAlive: true, maxSockets: 32 });

export interface Holder {
  nodeId: string;
  url: string;
}

/**
 * A GET to the node holding a result, marked as forwarded by `selfId` so the holder never
 * forwards it again. Resolves with the holder's answer as it comes; a holder that does not answer
 * is a 503 that says so.
 */
export function askHolder(holder: Holder, target: URL, queryHandle: string, selfId: string, accept?: string): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    const headers = { [FORWARDED_HEADER]: selfId, ...(accept && { accept }) };
    const outgoing = request(target, { method: 'GET', agent: holderAgent, headers }, resolve);
    outgoing.on('error', reject);
    outgoing.end();
  }).catch((error: Error) => {
    throw holderUnreachable(holder.nodeId, queryHandle, error);
  });
}

/**
 * Asks the holder for a page of a result it holds. The caller's session id goes along: the
 * holder checks the owner exactly as for the client's own request.
 */
export async function fetchHeldPage(
  holder: Holder,
  queryHandle: string,
  params: { sessionId: string; from: number; size: number; forwardedBy: string },
): Promise<ResultPage> {
  const url = new URL(`${HELD_RESULT_ROUTE}/${queryHandle}`, holder.url.endsWith('/') ? holder.url : `${holder.url}/`);
  url.searchParams.set('sessionid', params.sessionId);
  url.searchParams.set('fromindex', String(params.from));
  url.searchParams.set('fetchsize', String(params.size));
  const answer = await askHolder(holder, url, queryHandle, params.forwardedBy, 'application/json');
  const body = await text(answer);
  if (answer.statusCode === 200) return JSON.parse(body) as ResultPage;
  throw errorFrom(answer.statusCode ?? 0, body, holder.nodeId);
}

/** 503: the holder is listed as up but does not answer; the failure detector soon says which. */
function holderUnreachable(nodeId: string, queryHandle: string, error: Error): LensError {
  return new LensError(
    'RESULT_UNAVAILABLE',
    `node ${nodeId} holds the result of query ${queryHandle} but does not answer (${(error as { code?: string }).code ?? error.message}); ` +
      'if it is down, asking again shortly says the result is gone',
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
