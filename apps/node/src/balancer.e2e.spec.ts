import { createServer, type Server } from 'node:http';
import { BALANCER_SCRIPT, freePort, getRequestTarget, getJson, OwnedProcess, settlesWithin, waitFor } from '@quarry/testing';

// A plain node:http backend in a process of its own, so a test can freeze it for real (SIGSTOP).
// It echoes what reached it; /hold never answers; /stream sends its headers and a first chunk and
// ends when /finish is asked for the same id (directly, not through the balancer); after /sick its
// /health answers 503. It prints every request's target but /health's.
const BACKEND_SOURCE = `
const http = require('node:http');
const [name, port] = process.argv.slice(1);
const streams = new Map();
let sick = false;
http.createServer((req, res) => {
  const url = new URL(req.url, 'http://backend');
  const id = url.searchParams.get('id');
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    if (url.pathname !== '/health') console.log('request ' + req.url);
    if (url.pathname === '/hold') return console.log('holding ' + id);
    if (url.pathname === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first,');
      streams.set(id, res);
      return console.log('streaming ' + id);
    }
    if (url.pathname === '/finish') streams.get(id).end('last');
    if (url.pathname === '/sick') sick = true;
    if (url.pathname === '/health' && sick) return res.writeHead(503).end();
    const text = JSON.stringify({ backend: name, method: req.method, url: req.url, headers: req.headers, body });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
}).listen(Number(port), '127.0.0.1', () => console.log('listening'));
`;

interface Backend {
  name: string;
  url: string;
  host: string;
  process: OwnedProcess;
}
interface Echo {
  backend: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

const started: OwnedProcess[] = [];

async function startBackend(name: string): Promise<Backend> {
  const port = await freePort();
  const backend = new OwnedProcess(`backend-${name}`, process.execPath, ['-e', BACKEND_SOURCE, name, String(port)], process.env);
  started.push(backend);
  await waitFor(`backend ${name} to listen`, () => backend.allLines().includes('listening'), { timeoutMs: 15_000 });
  return { name, url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, process: backend };
}

async function startBalancer(backends: Backend[], args: string[] = []): Promise<{ url: string; port: number; process: OwnedProcess }> {
  const port = await freePort();
  const balancer = new OwnedProcess('balancer', process.execPath, [BALANCER_SCRIPT, '--port', String(port), '--backends', backends.map((b) => b.url).join(','), ...args], process.env);
  started.push(balancer);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('the balancer to answer', async () => (await getJson(`${url}/who`)).status === 200, { timeoutMs: 15_000 });
  return { url, port, process: balancer };
}

/** Which backends answer `count` requests in a row; each must succeed. */
async function answering(url: string, count: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const answer = await getJson<Echo>(`${url}/who`);
    expect(answer.status).toBe(200);
    names.push(answer.body.backend);
  }
  return names;
}

/** A request the test can watch settle, or abort. */
function watched(url: string, init: RequestInit = {}) {
  const controller = new AbortController();
  let settled = false;
  const answer = fetch(url, { ...init, signal: controller.signal }).then(async (response) => ({ status: response.status, text: await response.text() }));
  answer.then(
    () => (settled = true),
    () => (settled = true), // aborted by the test
  );
  return {
    answer,
    abort: () => controller.abort(),
    get settled() {
      return settled;
    },
  };
}

const downLine = (backend: Backend) => (line: string) => line.includes(`balancer: ${backend.host} is down`);
const upLine = (backend: Backend) => (line: string) => line.includes(`balancer: ${backend.host} is up again`);

describe('the balancer (tools/stack/balancer.mjs) in front of plain backends', () => {
  let a: Backend;
  let b: Backend;
  let c: Backend;
  let balancer: Awaited<ReturnType<typeof startBalancer>>;
  let decoy: Server | undefined;

  beforeAll(async () => {
    [a, b, c] = [await startBackend('A'), await startBackend('B'), await startBackend('C')];
    balancer = await startBalancer([a, b, c]); // the defaults `npm start` uses
  });

  afterAll(async () => {
    // A stopped process would not act on SIGTERM until continued.
    for (const p of started) p.kill('SIGCONT');
    await Promise.all(started.map((p) => p.stop(5_000)));
    await new Promise((resolve) => (decoy ? decoy.close(resolve) : resolve(undefined)));
  });

  it('takes a frozen backend out of the rotation, cuts the request waiting on it, and takes it back once it answers', async () => {
    expect(new Set(await answering(balancer.url, 6))).toEqual(new Set(['A', 'B', 'C']));

    // Three requests in a row land on the three backends, and each backend holds its one.
    const held = ['h1', 'h2', 'h3'].map((id) => ({ id, request: watched(`${balancer.url}/hold?id=${id}`, { method: 'POST', body: `payload ${id}` }) }));
    const holderOf = (backend: Backend) => backend.process.allLines().find((line) => line.startsWith('holding '))?.slice('holding '.length);
    await waitFor('each backend to hold one request', () => [a, b, c].every((backend) => holderOf(backend) !== undefined), { timeoutMs: 15_000 });
    const heldOnC = held.find((h) => h.id === holderOf(c));
    if (!heldOnC) throw new Error(`C holds ${holderOf(c)}, none of ${held.map((h) => h.id).join(', ')}`);

    process.kill(c.process.pid, 'SIGSTOP');
    await waitFor('the balancer to mark C down', () => balancer.process.allLines().some(downLine(c)), { timeoutMs: 20_000 });
    expect(balancer.process.allLines().find(downLine(c))).toContain('failed health checks');

    // The request C took before it froze is cut when C is marked down, not left to the response
    // timeout: its body reached C, so it is not replayed elsewhere; the client gets a 502 saying why.
    const cut = await heldOnC.request.answer;
    expect(cut.status).toBe(502);
    expect(JSON.parse(cut.text).error).toContain(`backend ${c.host} failed: marked down after 2 failed health checks`);
    // The ones A and B hold are still waiting: only the frozen backend's request was cut.
    expect(held.filter((h) => h !== heldOnC).map((h) => h.request.settled)).toEqual([false, false]);
    for (const h of held) h.request.abort();

    // Every request now succeeds, from A and B only.
    const whileFrozen = await answering(balancer.url, 8);
    expect(new Set(whileFrozen)).toEqual(new Set(['A', 'B']));

    process.kill(c.process.pid, 'SIGCONT');
    await waitFor('the balancer to take C back', () => balancer.process.allLines().some(upLine(c)), { timeoutMs: 20_000 });
    expect(new Set(await answering(balancer.url, 6))).toEqual(new Set(['A', 'B', 'C']));
  });

  it('gives up on a backend that sends no response headers in time, but never cuts a response that is streaming', async () => {
    const impatient = await startBalancer([a], ['--response-timeout-ms', '2000']);

    // The stream's headers came at once; its end comes only when the test asks A for it.
    const stream = await fetch(`${impatient.url}/stream?id=s1`);
    expect(stream.status).toBe(200);
    await waitFor('A to stream s1', () => a.process.allLines().includes('streaming s1'), { timeoutMs: 15_000 });

    // Started after the stream, so the stream would have been cut first had its timer kept running.
    const held = await settlesWithin(fetch(`${impatient.url}/hold?id=t1`), 30_000, 'the held request');
    expect(held.status).toBe(502);
    expect(((await held.json()) as { error: string }).error).toBe(`backend ${a.host} failed: no response headers within 2000 ms`);

    expect((await getJson<Echo>(`${a.url}/finish?id=s1`)).status).toBe(200);
    expect(await stream.text()).toBe('first,last');
  });

  it('still tries the backends when every one of them is marked down', async () => {
    const d = await startBackend('D');
    const lonely = await startBalancer([d]);
    expect((await getJson(`${d.url}/sick`)).status).toBe(200);
    await waitFor('the balancer to mark D down', () => lonely.process.allLines().some(downLine(d)), { timeoutMs: 20_000 });
    expect(lonely.process.allLines().find(downLine(d))).toContain('the last: GET /health answered 503');
    expect(await answering(lonely.url, 3)).toEqual(['D', 'D', 'D']);
  });

  it('refuses an absolute-form target (400) and client requests for /internal/ (404): no backend hears of them', async () => {
    let decoyConnections = 0;
    const server = createServer((_req, res) => res.end('decoy'));
    decoy = server;
    server.on('connection', () => decoyConnections++);
    const decoyPort = await freePort();
    await new Promise<void>((resolve) => server.listen(decoyPort, '127.0.0.1', resolve));
    const heard = (marker: string) => [a, b, c].flatMap((backend) => backend.process.allLines().filter((line) => line.startsWith('request ') && line.includes(marker)));

    for (const target of [`http://127.0.0.1:${decoyPort}/lensapi/echo?absolute=1`, `http://127.0.0.1:${balancer.port}/lensapi/echo?absolute=2`]) {
      const answer = await getRequestTarget(balancer.port, target);
      expect([target, answer.status, JSON.parse(answer.text).error]).toEqual([target, 400, 'absolute-form request targets are refused; send the path only']);
    }
    for (const path of ['/internal/results/x?internal=1', '/INTERNAL/results?internal=2', '//internal/results?internal=3', '/%69nternal/results?internal=4', '/lensapi/../internal/results?internal=5', '/internal?internal=6']) {
      const answer = await getRequestTarget(balancer.port, path);
      expect([path, answer.status, JSON.parse(answer.text).error]).toEqual([path, 404, 'no such route']);
    }
    // The same paths are still served when they are not internal: the balancer refuses by path, not by chance.
    expect((await getJson<Echo>(`${balancer.url}/internally/results?internal=7`)).body.url).toBe('/internally/results?internal=7');
    await waitFor('a backend to print the request it served', () => heard('internal=').length > 0, { timeoutMs: 5_000 });

    expect(decoyConnections).toBe(0);
    expect(heard('absolute=')).toEqual([]);
    expect(heard('internal=')).toEqual(['request /internally/results?internal=7']);
  });

  it('drops the headers only nodes set between themselves (x-quarry-forwarded-by, x-quarry-cluster-secret) from client requests', async () => {
    const headers = { 'x-quarry-forwarded-by': 'L9', 'x-quarry-cluster-secret': 'guessed', 'x-other': 'kept' };
    const plain = await fetch(`${balancer.url}/lensapi/echo`, { headers });
    const echo = (await plain.json()) as Echo;
    expect([plain.status, echo.url, echo.headers['x-quarry-forwarded-by'], echo.headers['x-quarry-cluster-secret'], echo.headers['x-other']]).toEqual([
      200,
      '/lensapi/echo',
      undefined,
      undefined,
      'kept',
    ]);
  });
});
