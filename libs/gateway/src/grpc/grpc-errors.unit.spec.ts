import { status } from '@grpc/grpc-js';
import { GRPC_LENS_CODE, GRPC_LENS_ERROR, GRPC_RETRY_AFTER, LENS_ERRORS, LensError, type LensErrorName } from '@quarry/contracts';
import { DriverQueryError } from '@quarry/drivers';
import { QueryRefused } from '@quarry/query';
import { SessionRefused } from '@quarry/session';
import type { Logger } from 'pino';
import { lastValueFrom } from 'rxjs';
import { z } from 'zod';
import { GrpcErrorsFilter } from './grpc-errors.filter';
import { GRPC_STATUS_OF, grpcFailureOf, type GrpcFailure } from './grpc-status';

const logged: unknown[] = [];
const logger = { error: (entry: unknown) => logged.push(entry) } as unknown as Logger;
const filter = new GrpcErrorsFilter(logger);

async function failureFor(error: unknown): Promise<GrpcFailure> {
  try {
    await lastValueFrom(filter.catch(error));
  } catch (failure) {
    return failure as GrpcFailure;
  }
  throw new Error('the filter did not fail the call');
}

const lensCodeOf = (failure: GrpcFailure) => failure.metadata.get(GRPC_LENS_CODE)[0];

describe('Lens errors as gRPC statuses', () => {
  it('gives every Lens error a status that fits its HTTP status', () => {
    const fits: Record<number, status[]> = {
      400: [status.INVALID_ARGUMENT, status.UNAUTHENTICATED, status.UNIMPLEMENTED],
      401: [status.UNAUTHENTICATED],
      403: [status.PERMISSION_DENIED],
      404: [status.NOT_FOUND],
      410: [status.NOT_FOUND, status.UNAUTHENTICATED],
      413: [status.RESOURCE_EXHAUSTED],
      415: [status.INVALID_ARGUMENT],
      429: [status.RESOURCE_EXHAUSTED],
      500: [status.INTERNAL, status.UNAVAILABLE],
      503: [status.UNAVAILABLE],
    };
    for (const name of Object.keys(LENS_ERRORS) as LensErrorName[]) {
      expect({ name, fits: fits[LENS_ERRORS[name].httpStatus]?.includes(GRPC_STATUS_OF[name]) }).toEqual({ name, fits: true });
    }
  });

  it('carries the Lens code, its name and Retry-After in the trailing metadata, the message as details', () => {
    const failure = grpcFailureOf(new LensError('TOO_MANY_LOGIN_ATTEMPTS', 'slow down', { retryAfterSeconds: 7 }));
    expect(failure.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(failure.details).toBe('slow down');
    expect(failure.metadata.get(GRPC_LENS_CODE)).toEqual(['9008']);
    expect(failure.metadata.get(GRPC_LENS_ERROR)).toEqual(['TOO_MANY_LOGIN_ATTEMPTS']);
    expect(failure.metadata.get(GRPC_RETRY_AFTER)).toEqual(['7']);
    expect(grpcFailureOf(new LensError('RESOURCE_NOT_FOUND')).metadata.get(GRPC_RETRY_AFTER)).toEqual([]);
  });

  it('maps the use cases\' refusals as the REST API does', async () => {
    const cases: [unknown, status, string][] = [
      [new SessionRefused({ kind: 'not-found' }), status.UNAUTHENTICATED, '2005'],
      [new SessionRefused({ kind: 'auth-failed', userName: 'ana' }), status.UNAUTHENTICATED, '9001'],
      [new SessionRefused({ kind: 'too-many', userName: 'ana', limit: 1 }), status.RESOURCE_EXHAUSTED, '2004'],
      [new QueryRefused({ kind: 'not-found' }), status.NOT_FOUND, '1003'],
      [new QueryRefused({ kind: 'transition', from: 'SUCCESSFUL', to: 'CANCELED' }), status.INVALID_ARGUMENT, '1006'],
      [new DriverQueryError('pg', 'syntax error at or near "SELEC"'), status.INVALID_ARGUMENT, '1006'],
      [new LensError('RESULT_GONE', 'expired'), status.NOT_FOUND, '9002'],
      [z.object({ n: z.number() }).safeParse({ n: 'x' }).error, status.INVALID_ARGUMENT, '1006'],
      [Object.assign(new Error('fenced'), { code: 'EVENT_STORE_WRITER_FENCED' }), status.UNAVAILABLE, '9005'],
      [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), status.UNAVAILABLE, '9004'],
    ];
    for (const [error, code, lensCode] of cases) {
      const failure = await failureFor(error);
      expect({ error: String(error), code: failure.code, lensCode: lensCodeOf(failure) }).toEqual({ error: String(error), code, lensCode });
    }
  });

  it('answers anything else INTERNAL with a reference to the log, never the error itself', async () => {
    const failure = await failureFor(new TypeError('secret internals'));
    expect(failure.code).toBe(status.INTERNAL);
    expect(lensCodeOf(failure)).toBe('1001');
    expect(failure.details).not.toContain('secret internals');
    const reference = /reference ([0-9a-f-]{36})/.exec(failure.details)![1];
    expect(logged).toContainEqual(expect.objectContaining({ reference }));
  });
});
