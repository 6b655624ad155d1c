import { type ArgumentsHost, type CallHandler, type ExecutionContext, Injectable, type NestInterceptor, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { Observable } from 'rxjs';

/**
 * How a Lens endpoint reports failure: endpoints that answer APIResult say `{status: FAILED,
 * message}`, those that answer LensAPIResult put the error inside it, the rest answer text.
 */
export type ErrorShape = 'apiResult' | 'lensAPIResult' | 'text';

const ERROR_SHAPE = 'quarry:lens-error-shape';
const SHAPE_ON_REQUEST = Symbol('lens-error-shape');

export const AnswersErrorsAs = (shape: ErrorShape) => SetMetadata(ERROR_SHAPE, shape);

/**
 * Exception filters are not told which handler failed, so this interceptor (first in line) notes
 * the handler's declared shape on the request for them.
 */
@Injectable()
export class ErrorShapeInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const shape = this.reflector.getAllAndOverride<ErrorShape | undefined>(ERROR_SHAPE, [context.getHandler(), context.getClass()]);
    if (shape) (context.switchToHttp().getRequest<Request>() as Request & { [SHAPE_ON_REQUEST]?: ErrorShape })[SHAPE_ON_REQUEST] = shape;
    return next.handle();
  }
}

/** The failing endpoint's declared shape; APIResult when it declared none. */
export function errorShapeOf(host: ArgumentsHost): ErrorShape {
  const req = host.switchToHttp().getRequest<Request & { [SHAPE_ON_REQUEST]?: ErrorShape }>();
  return req[SHAPE_ON_REQUEST] ?? 'apiResult';
}
