import { randomUUID } from 'node:crypto';
import { Catch, Inject, type RpcExceptionFilter } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import { DriverQueryError } from '@quarry/drivers';
import { clientErrorOf, isDatabaseUnavailable, LOGGER } from '@quarry/platform';
import { lensErrorFor, QueryRefused } from '@quarry/query';
import { ResourceRefused, SessionRefused } from '@quarry/session';
import type { Logger } from 'pino';
import { type Observable, throwError } from 'rxjs';
import { grpcFailureOf, type GrpcFailure } from './grpc-status';

/**
 * Every failure of a quarry.v1 call as a gRPC status with its Lens code: refusals of the use
 * cases in the words the REST API uses for them, Quarry's database away or this node ended as
 * UNAVAILABLE worth retrying, anything else INTERNAL with a reference to the node's log.
 */
@Catch()
export class GrpcErrorsFilter implements RpcExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(error: unknown): Observable<GrpcFailure> {
    return throwError(() => grpcFailureOf(this.lensErrorOf(error)));
  }

  private lensErrorOf(error: unknown): LensError {
    if (error instanceof QueryRefused || error instanceof SessionRefused || error instanceof DriverQueryError) return lensErrorFor(error);
    if (error instanceof ResourceRefused) return new LensError('INVALID_PARAMETER_VALUE', error.message);
    if (error instanceof LensError) return error;
    const client = clientErrorOf(error);
    if (client) return client.error;
    if ((error as { code?: unknown } | undefined)?.code === 'EVENT_STORE_WRITER_FENCED') return new LensError('NODE_ENDED', undefined, { retryAfterSeconds: 1 });
    if (isDatabaseUnavailable(error)) return new LensError('SERVICE_UNAVAILABLE', undefined, { retryAfterSeconds: 1 });
    const reference = randomUUID();
    this.logger.error({ err: error, reference }, 'gRPC call failed');
    return new LensError('INTERNAL_SERVER_ERROR', `internal error (reference ${reference} in the node's log)`);
  }
}
