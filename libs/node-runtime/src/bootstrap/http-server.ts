import type { NestExpressApplication } from '@nestjs/platform-express';
import { BODY_LIMITS, type QuarryConfig } from '@quarry/platform';

/**
 * The HTTP server's own settings: whose X-Forwarded-For to believe, and the body parsers with
 * their limits stated here rather than left to Nest's defaults (the app is created without them).
 */
export function configureHttpServer(app: NestExpressApplication, config: QuarryConfig): void {
  app.set('trust proxy', config.trustProxy);
  app.useBodyParser('json', { limit: BODY_LIMITS.parsedBodyBytes });
  app.useBodyParser('urlencoded', { limit: BODY_LIMITS.parsedBodyBytes, extended: true });
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
