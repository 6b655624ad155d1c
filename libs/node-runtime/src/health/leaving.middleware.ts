import { Injectable, type NestMiddleware } from '@nestjs/common';
import { IncarnationEnd } from '@quarry/platform';
import type { NextFunction, Request, Response } from 'express';

/**
 * While the node leaves (drain, then NodeLeft), every answer closes its connection: a balancer's
 * kept-open sockets would otherwise go on bringing work to a node that can no longer record it.
 */
@Injectable()
export class LeavingMiddleware implements NestMiddleware {
  constructor(private readonly end: IncarnationEnd) {}

  use(_req: Request, res: Response, next: NextFunction) {
    if (this.end.isLeaving) res.setHeader('connection', 'close');
    next();
  }
}
