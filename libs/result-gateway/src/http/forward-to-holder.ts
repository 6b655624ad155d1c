import { pipeline } from 'node:stream/promises';
import { askHolder } from '@quarry/query';
import type { Request, Response } from 'express';

/** What of the holder's answer goes back to the client: the body's type and size, Lens's error code. */
const PASSED_BACK = ['content-type', 'content-length', 'x-lens-error-code'];

/**
 * The client's own request, sent on to the node holding the result, and its answer streamed back
 * as the holder wrote it: the rows are rendered once, by the holder, and only bytes pass here.
 */
export async function forwardToHolder(target: URL, holderId: string, selfId: string, req: Request, res: Response): Promise<void> {
  const answer = await askHolder({ nodeId: holderId, url: target.origin }, target, String(req.params['handle']), selfId, req.headers.accept);
  res.status(answer.statusCode ?? 502);
  for (const name of PASSED_BACK) {
    const value = answer.headers[name];
    if (value !== undefined) res.setHeader(name, value);
  }
  await pipeline(answer, res);
}
