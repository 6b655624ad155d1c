import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import { DriverQueryError } from '@quarry/drivers';
import { errorShapeOf, renderLensError } from '@quarry/platform';
import { lensErrorForSession, SessionRefused } from '@quarry/session';
import type { Request, Response } from 'express';
import { QueryRefused } from '../domain/query.errors';

/** Query refusals in Lens's words; the engine's own message for SQL it refuses. */
export function lensErrorFor(error: QueryRefused | SessionRefused | DriverQueryError): LensError {
  if (error instanceof SessionRefused) return lensErrorForSession(error.refusal, error.message);
  if (error instanceof DriverQueryError) return new LensError('INVALID_PARAMETER_VALUE', `${error.driver}: ${error.message}`);
  switch (error.refusal.kind) {
    case 'not-found':
      return new LensError('RESOURCE_NOT_FOUND', 'no such query');
    case 'no-result':
      return new LensError('RESOURCE_NOT_FOUND', error.message);
    default:
      return new LensError('INVALID_PARAMETER_VALUE', error.message);
  }
}

/** The errors QueryErrorsFilter answers (its @Catch), for a route answered ahead of Nest. */
export const isQueryError = (error: unknown): error is QueryRefused | SessionRefused | DriverQueryError =>
  error instanceof QueryRefused || error instanceof SessionRefused || error instanceof DriverQueryError;

@Catch(QueryRefused, SessionRefused, DriverQueryError)
export class QueryErrorsFilter implements ExceptionFilter {
  catch(error: QueryRefused | SessionRefused | DriverQueryError, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    renderLensError(http.getRequest<Request>(), http.getResponse<Response>(), lensErrorFor(error), errorShapeOf(host));
  }
}
