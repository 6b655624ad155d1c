// Round-robin HTTP reverse proxy in front of several Quarry server nodes (node:http only).
//
//   node tools/stack/balancer.mjs --port 8080 --backends http://127.0.0.1:3001,http://127.0.0.1:3002
//   node tools/stack/balancer.mjs --port 8080 --backends L1=http://127.0.0.1:3001,L2=http://127.0.0.1:3002
//
// Backends named by their node id can be routed to: a node that does not hold a result sends the
// client's page request back through the balancer to the node that does (ADR 21), instead of
// relaying the page itself.
//
// Bodies are streamed both ways, never buffered, so large result downloads stay constant-memory.
// A backend that cannot be connected to is skipped for that request; nothing is retried once any
// request byte has been sent, because the body cannot be replayed.
//
// A frozen backend (SIGSTOP, a stuck event loop) still accepts connections in the kernel and never
// answers, so refused connections alone do not find it: each backend's GET /health is checked
// every --health-interval-ms, and one that fails --unhealthy-after checks in a row leaves the
// rotation until a check succeeds again. Requests waiting on it for response headers are then cut
// at once, and any request waits at most --response-timeout-ms for headers (never for the body:
// result downloads stream for minutes).
import http from 'node:http';
import { once } from 'node:events';
import { pipeline } from 'node:stream';
import { parseArgs } from 'node:util';
import { isMainModule, logToStderr, parsePort, runCli } from './lib/cli.mjs';

// Headers that describe one connection, not the message; they must not be forwarded (RFC 9110 §7.6.1).
const hopByHopHeaders = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect', // node:http already answered `100 Continue` to the client
]);

// Routing a result's pages to their holder (ADR 21; the names are libs/platform's balancer-routing.ts).
// A backend given as `<node id>=http://host:port` can be routed to: every request passed on says
// which node ids (ROUTES_HEADER), and a request naming one in HOLDER_PARAM goes to that node first.
const ROUTES_HEADER = 'x-quarry-balancer-routes';
const HOLDER_PARAM = 'quarry.holder';
// The later pages of a result go to the node its last page was sent back to, as HAProxy's stick
// table does (haproxy-config.mjs): at most this many results, each for this long after its last mark.
const REMEMBERED_RESULTS = 100_000;
const REMEMBER_RESULT_MS = 10 * 60_000;
const RESULT_PAGE_PATH = /^\/lensapi\/queryapi\/queries\/([^/?]+)\/resultset(?:\?|$)/;

// Set by nodes on requests between themselves (a forwarded result fetch), or by the balancer itself;
// a client must not send them.
const nodeOnlyHeaders = ['x-quarry-forwarded-by', 'x-quarry-cluster-secret', ROUTES_HEADER];

// The response timeout stays above the 30 s a node may rightly wait before its headers by default
// (EXECUTE_WITH_TIMEOUT's timeoutmillis, QUARRY_RERUN_WAIT_MS); a frozen node is the health check's job.
// Every 2 s: each check is a new connection and a request on every node, forever, and an idle
// cluster is meant to idle (issue 11); after a first failure the next comes at once
// (RECHECK_AFTER_FAILURE_MS), so a frozen node still leaves within about 4 s.
export const defaults = { healthIntervalMs: 2000, healthTimeoutMs: 1000, unhealthyAfter: 2, responseTimeoutMs: 60_000 };
/** After a failed check of a backend still in the rotation: the next check of it (HAProxy's `fastinter`). */
const RECHECK_AFTER_FAILURE_MS = 100;

/**
 * Starts the proxy. Resolves to { url, port, close(), setBackends(list), healthyBackends() } once
 * it listens (port 0 picks a free port; the real one is returned). Backends start healthy.
 */
export async function startBalancer({ port = 0, host = '127.0.0.1', backends, log = () => {}, ...options }) {
  const { healthIntervalMs, healthTimeoutMs, unhealthyAfter, responseTimeoutMs } = { ...defaults, ...options };
  let targets = parseBackends(backends, []);
  let routes = routesOf(targets);
  let nextIndex = 0;
  const holders = new ResultHolders();
  // Backend sockets idle for 4 s are closed before a typical 5 s server keep-alive timeout closes
  // them under us, which would fail a request sent on a socket the backend is just closing.
  const agent = new http.Agent({ keepAlive: true, timeout: 4000 });
  const stopChecks = new AbortController();

  const server = http.createServer((req, res) => {
    if (targets.length === 0) return answerJson(res, 503, { error: 'no backends configured' });
    const refusal = refusedTarget(req.url);
    if (refusal) return answerJson(res, refusal.status, { error: refusal.error });
    const path = req.url;
    // Strict round robin over the healthy backends; each request starts at the next one and may
    // try each once. With none healthy, all are tried: a slow answer is better than none.
    const healthy = targets.filter((b) => b.healthy);
    const pool = healthy.length > 0 ? healthy : targets;
    const start = nextIndex++ % pool.length;
    const order = holderFirst(pool.map((_, i) => pool[(start + i) % pool.length]), healthy, path, holders);
    forward({ req, res, path, order, agent, log, responseTimeoutMs, routes });
  });
  server.listen(port, host);
  await once(server, 'listening');
  const actualPort = server.address().port;

  // One round checks every backend at once; the next starts an interval after this one started,
  // or when it ends if a silent backend made it last longer.
  let checkTimer;
  const checkRound = async () => {
    const started = Date.now();
    await Promise.all(targets.map((backend) => checkHealth(backend, { timeoutMs: healthTimeoutMs, unhealthyAfter, signal: stopChecks.signal, log })));
    if (!stopChecks.signal.aborted) checkTimer = setTimeout(checkRound, Math.max(0, healthIntervalMs - (Date.now() - started)));
  };
  void checkRound();

  return {
    url: `http://${host}:${actualPort}`,
    port: actualPort,
    setBackends(list) {
      targets = parseBackends(list, targets);
      routes = routesOf(targets);
    },
    /** The backends in the rotation now, as given (`http://host:port`). */
    healthyBackends() {
      return targets.filter((b) => b.healthy).map((b) => b.given);
    },
    async close() {
      stopChecks.abort();
      clearTimeout(checkTimer);
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}

/**
 * Backends with their health; one already known (same node id and URL) keeps its state. An entry
 * is `http://host:port`, or `<node id>=http://host:port` for a node that pages can be routed to.
 */
function parseBackends(list, known) {
  if (!Array.isArray(list)) throw new Error('backends must be an array of http:// URLs');
  return list.map((entry) => {
    const { id, address } = parseBackendEntry(entry);
    const url = new URL(address);
    if (url.protocol !== 'http:') throw new Error(`Unsupported backend ${entry}: only http:// is supported`);
    // `waiting` holds, per request still waiting for response headers, the function that cuts it.
    return known.find((b) => b.url.href === url.href && b.id === id) ?? { id, given: address, url, healthy: true, failures: 0, waiting: new Set() };
  });
}

/** `<node id>=<url>` or `<url>`: { id (undefined without one), address }. Shared with haproxy-config.mjs. */
export function parseBackendEntry(entry) {
  const match = /^([A-Za-z0-9._-]+)=(.*)$/.exec(entry);
  if (!match) return { id: undefined, address: entry };
  return { id: match[1], address: match[2] };
}

/** The node ids the balancer routes to, as ROUTES_HEADER says them; undefined when no backend has one. */
function routesOf(targets) {
  const ids = targets.map((b) => b.id).filter(Boolean);
  return ids.length > 0 ? ids.join(',') : undefined;
}

/**
 * A page sent back by a node for its holder (HOLDER_PARAM) goes to that node first when it is in
 * the rotation, and so do the later pages of that result; otherwise round robin as any request
 * (the node it reaches forwards it, or sends it back again).
 */
function holderFirst(order, healthy, path, holders) {
  const handle = RESULT_PAGE_PATH.exec(path)?.[1];
  if (handle === undefined) return order;
  const marked = path.includes(`${HOLDER_PARAM}=`) ? new URLSearchParams(path.slice(path.indexOf('?') + 1)).get(HOLDER_PARAM) : null;
  const holderId = marked ?? holders.get(handle);
  const holder = healthy.find((b) => b.id !== undefined && b.id === holderId);
  if (!holder) return order;
  if (marked !== null) holders.set(handle, holder.id);
  return [holder, ...order.filter((b) => b !== holder)];
}

/** Which node holds each result, as its pages were last sent back: bounded, and forgotten after a while. */
class ResultHolders {
  #holders = new Map();

  get(handle) {
    const known = this.#holders.get(handle);
    if (known === undefined || Date.now() - known.at > REMEMBER_RESULT_MS) return undefined;
    return known.id;
  }

  set(handle, id) {
    this.#holders.delete(handle); // re-inserted last: the Map's order is the age
    this.#holders.set(handle, { id, at: Date.now() });
    if (this.#holders.size > REMEMBERED_RESULTS) this.#holders.delete(this.#holders.keys().next().value);
  }
}

/**
 * GET /health; after `unhealthyAfter` failures in a row the backend is down, after one success up.
 * A backend in the rotation that fails is asked again soon, not a whole interval later.
 */
async function checkHealth(backend, options) {
  await checkOnce(backend, options);
  while (!options.signal.aborted && backend.healthy && backend.failures > 0) {
    await new Promise((resolve) => setTimeout(resolve, RECHECK_AFTER_FAILURE_MS));
    await checkOnce(backend, options);
  }
}

async function checkOnce(backend, { timeoutMs, unhealthyAfter, signal, log }) {
  const failure = await probeHealth(backend.url, timeoutMs, signal);
  if (signal.aborted) return;
  if (failure === undefined) {
    if (!backend.healthy) log(`balancer: ${backend.url.host} is up again (GET /health answered)`);
    backend.healthy = true;
    backend.failures = 0;
    return;
  }
  backend.failures++;
  if (!backend.healthy || backend.failures < unhealthyAfter) return;
  backend.healthy = false;
  const reason = `marked down after ${backend.failures} failed health checks, the last: ${failure}`;
  log(`balancer: ${backend.url.host} is down (${reason})`);
  // Requests it has not started answering would otherwise wait for the response timeout.
  for (const cut of backend.waiting) cut(reason);
}

/** Resolves to undefined when GET /health answers 200 within `timeoutMs`, else to why not. */
function probeHealth(url, timeoutMs, signal) {
  return new Promise((resolve) => {
    // A fresh connection each time (agent: false): a frozen backend must fail, not a pooled socket.
    const probe = http.get(new URL('/health', url), { agent: false, signal }, (res) => {
      res.resume();
      res.once('end', () => done(res.statusCode === 200 ? undefined : `GET /health answered ${res.statusCode}`));
    });
    const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
    probe.on('error', (error) => done(error.code ?? error.message));
    function done(failure) {
      clearTimeout(timer);
      probe.destroy();
      resolve(failure); // only the first call counts
    }
  });
}

/**
 * Why a request target is not sent on, or undefined. The balancer is the clients' front door:
 * - an absolute-form target (`GET http://host/path`, RFC 9112 §3.2.2) names a host, and a node
 *   must never be led to act on a host a client chose: refused (400), not rewritten;
 * - `/internal/...` are the routes nodes call on each other (they also need the cluster secret):
 *   404, whatever spelling (case, `//`, `..`, percent-encoding) would reach them on a node.
 */
function refusedTarget(target) {
  if (target === '*') return undefined;
  if (!target.startsWith('/')) {
    const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(target);
    return { status: 400, error: absolute ? 'absolute-form request targets are refused; send the path only' : 'bad request target' };
  }
  if (isInternalPath(target)) return { status: 404, error: 'no such route' };
  return undefined;
}

function isInternalPath(target) {
  // Slashes collapsed first: `//internal` would otherwise read as a host named `internal`.
  let path = new URL(target.split('?')[0].replace(/\/{2,}/g, '/'), 'http://balancer').pathname; // resolves `.` and `..`
  try {
    path = decodeURIComponent(path);
  } catch {
    // malformed escapes: judged as written
  }
  return /^\/+internal(\/|$)/i.test(path.replace(/\/{2,}/g, '/'));
}

/** Sends `req` to order[0]; moves on to order[1..] only if nothing of it reached order[0]. */
function forward({ req, res, path, order, agent, log, responseTimeoutMs, routes }) {
  const [backend, ...rest] = order;
  const proxyReq = http.request({
    agent,
    protocol: backend.url.protocol,
    hostname: backend.url.hostname,
    port: backend.url.port,
    method: req.method,
    path,
    headers: forwardedRequestHeaders(req, routes),
  });

  // Until response headers come, the request can be cut: by the response timeout, or at once when
  // the health check marks this backend down. Once headers came, the body streams as long as it takes.
  const cut = (reason) => proxyReq.destroy(new Error(reason));
  const timer = setTimeout(() => cut(`no response headers within ${responseTimeoutMs} ms`), responseTimeoutMs);
  backend.waiting.add(cut);
  const stopWaiting = () => {
    clearTimeout(timer);
    backend.waiting.delete(cut);
  };
  proxyReq.once('response', stopWaiting);
  proxyReq.once('close', stopWaiting);

  let connected = false;
  let responded = false;
  proxyReq.on('socket', (socket) => {
    const startSendingBody = () => {
      connected = true;
      // Piping only now leaves the body unread while connecting, so a refused connection can still
      // go to the next backend. A body-less request may have ended already; just end ours.
      if (req.readableEnded) proxyReq.end();
      else req.pipe(proxyReq);
    };
    if (socket.connecting) socket.once('connect', startSendingBody);
    else startSendingBody(); // reused keep-alive socket
  });

  proxyReq.on('response', (proxyRes) => {
    responded = true;
    res.writeHead(proxyRes.statusCode, proxyRes.statusMessage, forwardedResponseHeaders(proxyRes));
    pipeline(proxyRes, res, () => {}); // errors on either side destroy both; the client sees a cut response
  });

  proxyReq.on('error', (error) => {
    if (res.destroyed) return; // client gone; nothing left to do
    const reason = error.code ?? error.message;
    const untouched = nothingReachedBackend({ error, connected, responded, proxyReq, req });
    if (untouched && rest.length > 0) {
      log(`balancer: ${backend.url.host} failed (${reason}); trying the next backend`);
      return forward({ req, res, path, order: rest, agent, log, responseTimeoutMs, routes });
    }
    log(`balancer: ${backend.url.host} failed (${reason})`);
    if (res.headersSent) return res.destroy(error);
    answerJson(res, 502, { error: untouched ? 'no backend answered' : `backend ${backend.url.host} failed: ${reason}` });
  });

  // The client went away before the response was complete: stop the backend request too.
  res.once('close', () => {
    if (!res.writableFinished) proxyReq.destroy();
  });
}

/**
 * Another backend may take the request when nothing of it reached this one: the connection never
 * opened, or a reused keep-alive socket was reset before a body-less request got any answer.
 */
function nothingReachedBackend({ error, connected, responded, proxyReq, req }) {
  if (responded) return false;
  if (!connected) return true;
  return proxyReq.reusedSocket && error.code === 'ECONNRESET' && !hasBody(req);
}

function hasBody(req) {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

function forwardedRequestHeaders(req, routes) {
  const headers = withoutHopByHop(req.headers);
  for (const name of nodeOnlyHeaders) delete headers[name];
  if (routes !== undefined) headers[ROUTES_HEADER] = routes;
  const clientAddress = req.socket.remoteAddress ?? 'unknown';
  headers['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${req.headers['x-forwarded-for']}, ${clientAddress}` : clientAddress;
  return headers;
}

function forwardedResponseHeaders(proxyRes) {
  return withoutHopByHop(proxyRes.headers);
}

function withoutHopByHop(headers) {
  // Headers named in `Connection` are hop-by-hop too.
  const named = String(headers.connection ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase());
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !hopByHopHeaders.has(name) && !named.includes(name)));
}

function answerJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function positiveInt(value, optionName) {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`${optionName} must be a whole number above 0, got ${JSON.stringify(value)}`);
  return number;
}

/** parseArgs options of the balancing flags (HAProxy's configuration takes the same, see balancer-command.mjs). */
export const balancingFlags = {
  'health-interval-ms': { type: 'string', default: String(defaults.healthIntervalMs) },
  'health-timeout-ms': { type: 'string', default: String(defaults.healthTimeoutMs) },
  'unhealthy-after': { type: 'string', default: String(defaults.unhealthyAfter) },
  'response-timeout-ms': { type: 'string', default: String(defaults.responseTimeoutMs) },
};

/** The options `startBalancer` takes, from parsed balancingFlags. */
export function balancingOptions(values) {
  return {
    healthIntervalMs: positiveInt(values['health-interval-ms'], '--health-interval-ms'),
    healthTimeoutMs: positiveInt(values['health-timeout-ms'], '--health-timeout-ms'),
    unhealthyAfter: positiveInt(values['unhealthy-after'], '--unhealthy-after'),
    responseTimeoutMs: positiveInt(values['response-timeout-ms'], '--response-timeout-ms'),
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      backends: { type: 'string' },
      ...balancingFlags,
    },
  });
  if (!values.backends) {
    console.error('usage: node tools/stack/balancer.mjs --port 8080 --backends [L1=]http://127.0.0.1:3001,[L2=]http://127.0.0.1:3002');
    console.error('       [--health-interval-ms 1000] [--health-timeout-ms 1000] [--unhealthy-after 2] [--response-timeout-ms 60000]');
    return 2;
  }
  const balancer = await startBalancer({
    port: parsePort(values.port, '--port'),
    host: values.host,
    backends: values.backends.split(',').map((entry) => entry.trim()).filter(Boolean),
    log: logToStderr,
    ...balancingOptions(values),
  });
  console.log(`Balancing ${balancer.url} across ${values.backends}`);
  await new Promise((resolvePromise) => {
    process.once('SIGINT', resolvePromise);
    process.once('SIGTERM', resolvePromise);
  });
  await balancer.close();
  return 0;
}

if (isMainModule(import.meta.url)) runCli(main);
