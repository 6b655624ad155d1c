import { Injectable, type NestMiddleware } from '@nestjs/common';
import { DbPurposes, QuarryMetrics } from '@quarry/platform';
import type { NextFunction, Request, Response } from 'express';

/**
 * Times every request; labels by route pattern, never by raw URL, to keep cardinality bounded.
 * Runs the request under its database purpose (`lens` or `http`), which counts its statements.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(
    private readonly metrics: QuarryMetrics,
    private readonly purposes: DbPurposes,
  ) {}

  use(req: Request, res: Response, next: NextFunction) {
    const stop = this.metrics.httpRequests.startTimer();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      stop({ method: req.method, route, status: String(res.statusCode) });
    });
    this.purposes.run(req.originalUrl.startsWith('/lensapi/') ? 'lens' : 'http', next);
  }
}
