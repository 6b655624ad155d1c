import type { IncomingHttpHeaders, IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { chooseMediaType, serialize, type WireMediaType, type WireRoot } from '@quarry/contracts';
import type { DbPurposes, FastGetMatch, FastPostHandler, FastRoutes, QuarryMetrics } from '@quarry/platform';
import type { Request, Response } from 'express';

/** The Express settings a fast answer follows, read from the app so that both paths agree. */
export interface ExpressSettings {
  /** Express's `query parser fn`: how req.query is made. */
  parseQuery: (queryString: string) => Record<string, unknown>;
  /** Express's `etag fn` (undefined when ETags are off). */
  etagOf?: (body: Buffer) => string | undefined;
  /** Express's `x-powered-by`. */
  poweredBy: boolean;
  /** The app's request and response prototypes (`app.request`, `app.response`), for a fast POST. */
  prototypes: { request: object; response: object };
}

export interface FastRoutesFirst {
  routes: FastRoutes;
  metrics: QuarryMetrics;
  purposes: DbPurposes;
  /** While the node leaves, every request goes the full way (its answers close their connections). */
  isLeaving: () => boolean;
  express: ExpressSettings;
}

/** The largest body a fast POST reads; a larger one goes the full way, which applies the limits. */
const FAST_POST_MAX_BYTES = 1024 * 1024;

/**
 * Puts the FastRoutes ahead of the server's request listener (Express).
 * - A plain GET of a registered path is answered by its handler with the headers Express would
 *   write (X-Powered-By, the Content-Type with its charset, Content-Length, the weak ETag); a
 *   handler that throws, a body, a conditional request, a body type the client does not accept
 *   send it to Express untouched, which answers it as it always did.
 * - A plain multipart POST of a registered path, with its length given, is handed to its handler
 *   on Express's own request and response objects (as Express's app.handle makes them), without
 *   the router and Nest; the handler answers everything, errors included.
 * Anything else — another method or path, a node leaving — goes to Express untouched.
 */
export function answerFastRoutesFirst(server: Server, parts: FastRoutesFirst): void {
  const listeners = server.listeners('request') as RequestListener[];
  if (listeners.length !== 1) throw new Error(`expected one request listener (Express), found ${listeners.length}`);
  const [full] = listeners;
  server.removeListener('request', full);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (parts.isLeaving() || !noCondition(req.headers)) return full(req, res);
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (req.method === 'GET') {
      const found = hasNoBody(req.headers) ? parts.routes.matchGet(path) : undefined;
      // 406 is Express's to answer, before anything is read.
      const mediaType = found && chooseMediaType(req.headers.accept);
      if (!found || !mediaType) return full(req, res);
      return answerGet(parts, found, mediaType, q < 0 ? '' : url.slice(q + 1), req, res, () => full(req, res));
    }
    const post = req.method === 'POST' && isPlainMultipart(req.headers) ? parts.routes.matchPost(path) : undefined;
    if (!post || !chooseMediaType(req.headers.accept)) return full(req, res);
    answerPost(parts, post, path, req, res);
  });
}

function answerGet(parts: FastRoutesFirst, found: FastGetMatch, mediaType: WireMediaType, queryString: string, req: IncomingMessage, res: ServerResponse, fullWay: () => void): void {
  const stop = parts.metrics.httpRequests.startTimer();
  // Whatever throws, at once or later, before the answer is written sends the request the full way.
  const answered = parts.purposes.run('lens', () => new Promise<WireRoot>((resolve) => resolve(found.handler(parts.express.parseQuery(queryString), found.param))));
  answered
    .then((root) => {
      if (root.kind === 'text' || root.kind === 'driverRows') return fullWay();
      const body = Buffer.from(serialize(root, mediaType), 'utf8');
      res.on('finish', () => stop({ method: 'GET', route: found.route, status: String(res.statusCode) }));
      if (parts.express.poweredBy) res.setHeader('X-Powered-By', 'Express');
      res.setHeader('Content-Type', `${mediaType}; charset=utf-8`);
      res.setHeader('Content-Length', body.length);
      const etag = parts.express.etagOf?.(body);
      if (etag) res.setHeader('ETag', etag);
      res.statusCode = 200;
      res.end(body);
      parts.metrics.httpFastAnswers.inc({ method: 'GET', route: found.route });
    })
    // The full way answers the failure with its own shape and status (and reads again).
    .catch(() => (res.headersSent ? res.destroy() : fullWay()));
}

function answerPost(parts: FastRoutesFirst, handler: FastPostHandler, path: string, req: IncomingMessage, res: ServerResponse): void {
  const stop = parts.metrics.httpRequests.startTimer();
  res.on('finish', () => stop({ method: 'POST', route: path, status: String(res.statusCode) }));
  parts.metrics.httpFastAnswers.inc({ method: 'POST', route: path });
  // What Express's app.handle does before its router: the header, the links, the prototypes.
  if (parts.express.poweredBy) res.setHeader('X-Powered-By', 'Express');
  const request = Object.assign(Object.setPrototypeOf(req, parts.express.prototypes.request) as Request, { originalUrl: req.url, baseUrl: '', params: {} });
  const response = Object.setPrototypeOf(res, parts.express.prototypes.response) as Response;
  Object.assign(request, { res: response });
  Object.assign(response, { req: request, locals: Object.create(null) });
  // The handler answers its own errors; one that escapes it still ends the exchange.
  parts.purposes
    .run('lens', () => handler(request, response))
    .catch(() => (res.headersSent ? res.destroy() : ((res.statusCode = 500), res.end())));
}

/** No validator to compare: Express would answer without a 304 or a 412. */
const noCondition = (headers: IncomingHttpHeaders) => headers['if-none-match'] === undefined && headers['if-modified-since'] === undefined;

/** No body: what Express would answer 200 without reading one. */
const hasNoBody = (headers: IncomingHttpHeaders) => headers['transfer-encoding'] === undefined && (headers['content-length'] === undefined || headers['content-length'] === '0');

/** A multipart form of a stated, bounded length: what a Lens client sends. */
function isPlainMultipart(headers: IncomingHttpHeaders): boolean {
  const length = Number(headers['content-length']);
  return (
    headers['transfer-encoding'] === undefined &&
    headers.expect === undefined &&
    Number.isInteger(length) &&
    length > 0 &&
    length <= FAST_POST_MAX_BYTES &&
    /^multipart\/form-data\s*;/i.test(headers['content-type'] ?? '')
  );
}
