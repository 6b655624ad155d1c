import { applyDecorators, type ArgumentsHost, type CanActivate, type ExecutionContext, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';

/**
 * How a Lens endpoint reports failure: endpoints that answer APIResult say `{status: FAILED,
 * message}`, those that answer LensAPIResult put the error inside it, the rest answer text.
 */
export type ErrorShape = 'apiResult' | 'lensAPIResult' | 'text';

const ERROR_SHAPE = 'quarry:lens-error-shape';
const SHAPE_ON_REQUEST = Symbol('lens-error-shape');

/**
 * Exception filters are not told which handler failed, so the endpoint's declared shape is noted
 * on the request for them, by a guard that always lets the request through. A guard rather than a
 * global interceptor: only the routes that declare a shape pay for it, and a route without
 * interceptors keeps Nest's plain path (no rxjs pipeline, no AsyncResource per request).
 *
 * Guards run in the order they are listed: the class's, then the method's (on one target, the
 * decorator written lowest first). ClusterPeersOnly sits on a class whose shapes are declared on
 * its methods, so its refusals are answered in the default shape, as when an interceptor (which
 * runs after every guard) noted the shape; keep a refusing guard before this one.
 */
@Injectable()
export class ErrorShapeNote implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const shape = this.reflector.getAllAndOverride<ErrorShape | undefined>(ERROR_SHAPE, [context.getHandler(), context.getClass()]);
    if (shape) context.switchToHttp().getRequest<Request & { [SHAPE_ON_REQUEST]?: ErrorShape }>()[SHAPE_ON_REQUEST] = shape;
    return true;
  }
}

/** Declares an endpoint's (or a controller's endpoints') error shape; the method's wins over its class's. */
export const AnswersErrorsAs = (shape: ErrorShape) => applyDecorators(SetMetadata(ERROR_SHAPE, shape), UseGuards(ErrorShapeNote));

/** The failing endpoint's declared shape; APIResult when it declared none. */
export function errorShapeOf(host: ArgumentsHost): ErrorShape {
  const req = host.switchToHttp().getRequest<Request & { [SHAPE_ON_REQUEST]?: ErrorShape }>();
  return req[SHAPE_ON_REQUEST] ?? 'apiResult';
}
