import { randomUUID } from 'node:crypto';
import type { LensError } from '@quarry/contracts';
import type { Request, Response } from 'express';
import type { ErrorShape } from './error-shape';
import { reply } from './lens-reply';

/** The one error writer of the Lens API: same error, the answer shape its endpoint uses. */
export function renderLensError(req: Request, res: Response, error: LensError, shape: ErrorShape, status = error.httpStatus): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
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
