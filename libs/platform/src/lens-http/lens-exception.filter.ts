import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../db/database-unavailable';
import { LOGGER } from '../di/tokens';
import { errorShapeOf } from './error-shape';
import { renderLensError } from './render-lens-error';

/** Seconds a client is told to wait before asking again while the database is away. */
const RETRY_AFTER_SECONDS = '1';

/**
 * The last word on any error: a LensError as it says; an HTTP error (unknown route, bad multipart)
 * with its status and message; Quarry's database unreachable or its connection lost is a 503
 * (9004) worth retrying; anything else is a 500 whose details go to the log, not the client.
 */
@Catch()
export class LensExceptionFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const shape = errorShapeOf(host);
    if (error instanceof LensError) return renderLensError(req, res, error, shape);
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const name = status === 404 ? 'RESOURCE_NOT_FOUND' : status < 500 ? 'INVALID_PARAMETER_VALUE' : 'INTERNAL_SERVER_ERROR';
      return renderLensError(req, res, new LensError(name, error.message), shape, status);
    }
    // The event store refused this node's append: it has left or was declared down (WriterFenced).
    if ((error as { code?: unknown } | undefined)?.code === 'EVENT_STORE_WRITER_FENCED') {
      if (!res.headersSent) res.setHeader('retry-after', RETRY_AFTER_SECONDS);
      return renderLensError(req, res, new LensError('NODE_ENDED'), shape);
    }
    if (isDatabaseUnavailable(error)) {
      const { message, code } = error as { message?: string; code?: string };
      this.logger.warn({ err: message, code, method: req.method, path: req.path }, 'request failed: the database cannot be reached');
      if (!res.headersSent) res.setHeader('retry-after', RETRY_AFTER_SECONDS);
      return renderLensError(req, res, new LensError('SERVICE_UNAVAILABLE'), shape);
    }
    const reference = randomUUID();
    this.logger.error({ err: error, reference, method: req.method, url: req.originalUrl }, 'request failed');
    renderLensError(req, res, new LensError('INTERNAL_SERVER_ERROR', `internal error (reference ${reference} in the node's log)`), shape);
  }
}
