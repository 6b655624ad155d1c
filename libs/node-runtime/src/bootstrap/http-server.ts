import type { Server } from 'node:http';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { BODY_LIMITS, DbPurposes, FastRoutes, IncarnationEnd, QuarryMetrics, type QuarryConfig } from '@quarry/platform';
import { answerFastRoutesFirst } from './fast-routes-first';

/**
 * The HTTP server's own settings: whose X-Forwarded-For to believe, and the body parsers with
 * their limits stated here rather than left to Nest's defaults (the app is created without them).
 */
export function configureHttpServer(app: NestExpressApplication, config: QuarryConfig): void {
  app.set('trust proxy', config.trustProxy);
  app.useBodyParser('json', { limit: BODY_LIMITS.parsedBodyBytes });
  app.useBodyParser('urlencoded', { limit: BODY_LIMITS.parsedBodyBytes, extended: true });
}

/** The FastRoutes the node's modules registered, ahead of Express, following the Express app's own settings. */
export function putFastRoutesFirst(app: NestExpressApplication): void {
  const express = app.getHttpAdapter().getInstance() as { get(setting: string): unknown; enabled(setting: string): boolean; request: object; response: object };
  const end = app.get(IncarnationEnd);
  answerFastRoutesFirst(app.getHttpServer() as Server, {
    routes: app.get(FastRoutes),
    metrics: app.get(QuarryMetrics),
    purposes: app.get(DbPurposes),
    isLeaving: () => end.isLeaving,
    express: {
      // Express makes req.query {} when its query parser is off.
      parseQuery: (express.get('query parser fn') as ((queryString: string) => Record<string, unknown>) | undefined) ?? (() => ({})),
      etagOf: express.get('etag fn') as ((body: Buffer) => string | undefined) | undefined,
      poweredBy: express.enabled('x-powered-by'),
      prototypes: { request: express.request, response: express.response },
    },
  });
}

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** Every route the server answers, as `METHOD /path`, read from Express's router once Nest has mapped them. */
export function routesOf(app: NestExpressApplication): string[] {
  const stack = (app.getHttpAdapter().getInstance() as { router: { stack: RouteLayer[] } }).router.stack;
  return stack.flatMap(({ route }) =>
    route ? Object.keys(route.methods).filter((m) => route.methods[m] && m !== '_all').map((m) => `${m.toUpperCase()} ${route.path}`) : [],
  );
}
