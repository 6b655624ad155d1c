// Round-robin HTTP reverse proxy in front of several Quarry server nodes (node:http only).
//
//   node tools/stack/balancer.mjs --port 8080 --backends http://127.0.0.1:3001,http://127.0.0.1:3002
//
// Bodies are streamed both ways, never buffered, so large result downloads stay constant-memory.
// A backend that cannot be connected to is skipped for that request; nothing is retried once any
// request byte has been sent, because the body cannot be replayed.
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

/**
 * Starts the proxy. Resolves to { url, port, close(), setBackends(list) } once it listens
 * (port 0 picks a free port; the real one is returned).
 */
export async function startBalancer({ port = 0, host = '127.0.0.1', backends, log = () => {} }) {
  let targets = parseBackends(backends);
  let nextIndex = 0;
  // Backend sockets idle for 4 s are closed before a typical 5 s server keep-alive timeout closes
  // them under us, which would fail a request sent on a socket the backend is just closing.
  const agent = new http.Agent({ keepAlive: true, timeout: 4000 });

  const server = http.createServer((req, res) => {
    if (targets.length === 0) return answerJson(res, 503, { error: 'no backends configured' });
    // Strict round robin: each request starts at the next backend and may try each one once.
    const start = nextIndex++ % targets.length;
    const order = targets.map((_, i) => targets[(start + i) % targets.length]);
    forward({ req, res, order, agent, log });
  });
  server.listen(port, host);
  await once(server, 'listening');
  const actualPort = server.address().port;

  return {
    url: `http://${host}:${actualPort}`,
    port: actualPort,
    setBackends(list) {
      targets = parseBackends(list);
    },
    async close() {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}

function parseBackends(list) {
  if (!Array.isArray(list)) throw new Error('backends must be an array of http:// URLs');
  return list.map((entry) => {
    const url = new URL(entry);
    if (url.protocol !== 'http:') throw new Error(`Unsupported backend ${entry}: only http:// is supported`);
    return url;
  });
}

/** Sends `req` to order[0]; moves on to order[1..] only if connecting fails. */
function forward({ req, res, order, agent, log }) {
  const [backend, ...rest] = order;
  const proxyReq = http.request({
    agent,
    protocol: backend.protocol,
    hostname: backend.hostname,
    port: backend.port,
    method: req.method,
    path: req.url,
    headers: forwardedRequestHeaders(req),
  });

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
      log(`balancer: ${backend.host} failed (${reason}); trying the next backend`);
      return forward({ req, res, order: rest, agent, log });
    }
    log(`balancer: ${backend.host} failed (${reason})`);
    if (res.headersSent) return res.destroy(error);
    answerJson(res, 502, { error: untouched ? 'no backend answered' : `backend ${backend.host} failed: ${reason}` });
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

function forwardedRequestHeaders(req) {
  const headers = withoutHopByHop(req.headers);
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

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      backends: { type: 'string' },
    },
  });
  if (!values.backends) {
    console.error('usage: node tools/stack/balancer.mjs --port 8080 --backends http://127.0.0.1:3001,http://127.0.0.1:3002');
    return 2;
  }
  const balancer = await startBalancer({
    port: parsePort(values.port, '--port'),
    host: values.host,
    backends: values.backends.split(',').map((entry) => entry.trim()).filter(Boolean),
    log: logToStderr,
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
