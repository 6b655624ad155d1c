import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../db/database-unavailable';
import { LOGGER } from '../di/tokens';
import { clientErrorOf } from './client-errors';
import { errorShapeOf, type ErrorShape } from './error-shape';
import { renderLensError } from './render-lens-error';

/** Seconds a client is told to wait before asking again while the database is away. */
const RETRY_AFTER_SECONDS = 1;

/**
 * The last word on any error: whatever the client sent wrong (a LensError, an unknown route, a
 * body too large or unreadable, a value over a limit) as its 4xx (`clientErrorOf`); Quarry's
 * database unreachable or its connection lost is a 503 (9004) worth retrying; anything else is a
 * 500 whose details go to the log, not the client.
 */
@Catch()
export class LensExceptionFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    renderAnyError(http.getRequest<Request>(), http.getResponse<Response>(), error, errorShapeOf(host), this.logger);
  }
}

/** LensExceptionFilter's answer to any error, for a route answered ahead of Nest (FastRoutes) too. */
export function renderAnyError(req: Request, res: Response, error: unknown, shape: ErrorShape, logger: Logger): void {
  const client = clientErrorOf(error);
  if (client) return renderLensError(req, res, client.error, shape, client.status);
  if (error instanceof HttpException) return renderLensError(req, res, new LensError('INTERNAL_SERVER_ERROR', error.message), shape, error.getStatus());
  // The event store refused this node's append: it has left or was declared down (WriterFenced).
  if ((error as { code?: unknown } | undefined)?.code === 'EVENT_STORE_WRITER_FENCED') {
    return renderLensError(req, res, new LensError('NODE_ENDED', undefined, { retryAfterSeconds: RETRY_AFTER_SECONDS }), shape);
  }
  if (isDatabaseUnavailable(error)) {
    const { message, code } = error as { message?: string; code?: string };
    logger.warn({ err: message, code, method: req.method, path: req.path }, 'request failed: the database cannot be reached');
    return renderLensError(req, res, new LensError('SERVICE_UNAVAILABLE', undefined, { retryAfterSeconds: RETRY_AFTER_SECONDS }), shape);
  }
  const reference = randomUUID();
  logger.error({ err: error, reference, method: req.method, url: req.originalUrl }, 'request failed');
  renderLensError(req, res, new LensError('INTERNAL_SERVER_ERROR', `internal error (reference ${reference} in the node's log)`), shape);
}
