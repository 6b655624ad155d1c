import type { IncomingHttpHeaders, IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { chooseMediaType, serialize, type WireRoot } from '@quarry/contracts';
import type { DbPurposes, FastGets, QuarryMetrics } from '@quarry/platform';

/** The Express settings a fast answer follows, read from the app so that both paths agree. */
export interface ExpressSettings {
  /** Express's `query parser fn`: how req.query is made. */
  parseQuery: (queryString: string) => Record<string, unknown>;
  /** Express's `etag fn` (undefined when ETags are off). */
  etagOf?: (body: Buffer) => string | undefined;
  /** Express's `x-powered-by`. */
  poweredBy: boolean;
}

export interface FastGetsFirst {
  routes: FastGets;
  metrics: QuarryMetrics;
  purposes: DbPurposes;
  /** While the node leaves, every request goes the full way (its answers close their connections). */
  isLeaving: () => boolean;
  express: ExpressSettings;
}

/**
 * Puts the FastGets ahead of the server's request listener (Express): a plain GET of a registered
 * path is answered by its handler with the headers Express would write (X-Powered-By, the
 * Content-Type with its charset, Content-Length, the weak ETag); anything else — another method or
 * path, a body, a conditional request, a node leaving, a handler that throws, a body type the
 * client does not accept — goes to Express untouched, which answers it as it always did.
 */
export function answerFastGetsFirst(server: Server, parts: FastGetsFirst): void {
  const listeners = server.listeners('request') as RequestListener[];
  if (listeners.length !== 1) throw new Error(`expected one request listener (Express), found ${listeners.length}`);
  const [full] = listeners;
  server.removeListener('request', full);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const found = req.method === 'GET' && isPlain(req.headers) && !parts.isLeaving() ? parts.routes.match(path) : undefined;
    // 406 is Express's to answer, before anything is read.
    const mediaType = found && chooseMediaType(req.headers.accept);
    if (!found || !mediaType) return full(req, res);
    const { handler, param } = found;
    const stop = parts.metrics.httpRequests.startTimer();
    // Whatever throws, at once or later, before the answer is written sends the request the full way.
    const answered = parts.purposes.run('lens', () => new Promise<WireRoot>((resolve) => resolve(handler(parts.express.parseQuery(q < 0 ? '' : url.slice(q + 1)), param))));
    answered
      .then((root) => {
        if (root.kind === 'text' || root.kind === 'driverRows') return full(req, res);
        const body = Buffer.from(serialize(root, mediaType), 'utf8');
        res.on('finish', () => stop({ method: 'GET', route: found.route, status: String(res.statusCode) }));
        if (parts.express.poweredBy) res.setHeader('X-Powered-By', 'Express');
        res.setHeader('Content-Type', `${mediaType}; charset=utf-8`);
        res.setHeader('Content-Length', body.length);
        const etag = parts.express.etagOf?.(body);
        if (etag) res.setHeader('ETag', etag);
        res.statusCode = 200;
        res.end(body);
      })
      // The full way answers the failure with its own shape and status (and reads again).
      .catch(() => (res.headersSent ? res.destroy() : full(req, res)));
  });
}

/** No body and no condition: what Express would answer 200 without reading a body or comparing validators. */
function isPlain(headers: IncomingHttpHeaders): boolean {
  return (
    headers['if-none-match'] === undefined &&
    headers['if-modified-since'] === undefined &&
    headers['transfer-encoding'] === undefined &&
    (headers['content-length'] === undefined || headers['content-length'] === '0')
  );
}
