import { Injectable, type NestMiddleware } from '@nestjs/common';
import { QuarryMetrics } from '@quarry/platform';
import type { NextFunction, Request, Response } from 'express';

/** Times every request; labels by route pattern, never by raw URL, to keep cardinality bounded. */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: QuarryMetrics) {}

  use(req: Request, res: Response, next: NextFunction) {
    const stop = this.metrics.httpRequests.startTimer();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      stop({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  }
}
