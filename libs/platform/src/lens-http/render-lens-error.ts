import { randomUUID } from 'node:crypto';
import { finished } from 'node:stream';
import type { LensError } from '@quarry/contracts';
import type { Request, Response } from 'express';
import type { ErrorShape } from './error-shape';
import { reply } from './lens-reply';

/**
 * The one error writer of the Lens API: same error, the answer shape its endpoint uses. A body
 * still arriving is read to its end (and dropped) first, as the body parsers do: an answer sent
 * while the client is still sending makes proxies and clients cut the connection under it.
 */
export function renderLensError(req: Request, res: Response, error: LensError, shape: ErrorShape, status = error.httpStatus): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (req.complete || req.readableEnded || req.destroyed) return writeLensError(req, res, error, shape, status);
  req.resume();
  finished(req, () => writeLensError(req, res, error, shape, status));
}

function writeLensError(req: Request, res: Response, error: LensError, shape: ErrorShape, status: number): void {
  if (res.headersSent || res.destroyed) return;
  // The code travels in a header too, so text and APIResult answers still name it.
  res.setHeader('x-lens-error-code', String(error.code));
  if (error.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(error.retryAfterSeconds));
  switch (shape) {
    case 'text':
      return reply(req, res, status, { kind: 'text', value: error.message });
    case 'lensAPIResult':
      return reply(req, res, status, { kind: 'lensAPIResult', value: error.toLensAPIResult(requestIdOf(req)) });
    case 'apiResult':
      return reply(req, res, status, { kind: 'apiResult', value: error.toApiResult() });
  }
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The client's X-Request-Id when it is a plain id (never echoed back at any size), else a new one. */
function requestIdOf(req: Request): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}
