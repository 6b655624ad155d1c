import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import { errorShapeOf, renderLensError } from '@quarry/platform';
import type { Request, Response } from 'express';
import { SessionRefused, type SessionRefusal } from '../domain/session.errors';
import { ResourceRefused } from '../infrastructure/resource-reader';

/** Session refusals in Lens's words: unknown, wrong secret and ended all read "closed or unknown" (410). */
export function lensErrorFor(refusal: SessionRefusal, message: string): LensError {
  switch (refusal.kind) {
    case 'not-found':
      return new LensError('SESSION_CLOSED', 'session is closed or unknown');
    case 'ended':
      return new LensError('SESSION_CLOSED', `session is ${refusal.status}`);
    case 'too-many':
      return new LensError('TOO_MANY_OPEN_SESSIONS', message);
    case 'auth-failed':
      return new LensError('BAD_CREDENTIALS', message);
    case 'login-throttled':
      return new LensError('TOO_MANY_LOGIN_ATTEMPTS', message, { retryAfterSeconds: refusal.retryAfterSeconds });
    case 'resource-not-found':
    case 'param-not-found':
      return new LensError('RESOURCE_NOT_FOUND', message);
    case 'invalid':
    case 'already-open':
      return new LensError('INVALID_PARAMETER_VALUE', message);
  }
}

@Catch(SessionRefused, ResourceRefused)
export class SessionErrorsFilter implements ExceptionFilter {
  catch(error: SessionRefused | ResourceRefused, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const lens = error instanceof SessionRefused ? lensErrorFor(error.refusal, error.message) : new LensError('INVALID_PARAMETER_VALUE', error.message);
    renderLensError(http.getRequest<Request>(), http.getResponse<Response>(), lens, errorShapeOf(host));
  }
}
