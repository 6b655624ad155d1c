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
  switch (shape) {
    case 'text':
      return reply(req, res, status, { kind: 'text', value: error.message });
    case 'lensAPIResult': {
      const id = (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
      return reply(req, res, status, { kind: 'lensAPIResult', value: error.toLensAPIResult(id) });
    }
    case 'apiResult':
      return reply(req, res, status, { kind: 'apiResult', value: error.toApiResult() });
  }
}
