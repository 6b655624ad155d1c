import { createServer } from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BALANCER_COMMAND_SCRIPT, balancerKindHere, freePort, getRequestTarget, getJson, OwnedProcess, settlesWithin, startBalancer as startChosenBalancer, waitFor, type BalancerKind } from '@quarry/testing';

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

interface Balancer {
  url: string;
  port: number;
  process: OwnedProcess;
}

/** `named`: each backend given as `<name>=<url>`, as nodes are by their id, so that pages can be routed to it (ADR 21). */
async function startBalancer(kind: BalancerKind, backends: Backend[], args: string[] = [], named = false): Promise<Balancer> {
  const balancer = await startChosenBalancer({ kind, backends: backends.map((b) => (named ? `${b.name}=${b.url}` : b.url)), args });
  started.push(balancer.process);
  await waitFor('the balancer to answer', async () => (await getJson(`${balancer.url}/who`)).status === 200, { timeoutMs: 15_000 });
  return balancer;
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

/** Which backends answer `count` GETs of `path` in a row, and the headers the last one saw; each must succeed. */
async function answeringPath(url: string, path: string, count: number, headers: Record<string, string> = {}): Promise<{ names: string[]; headers: Record<string, string> }> {
  const names: string[] = [];
  let seen: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${url}${path}`, { headers });
    expect(response.status).toBe(200);
    const echo = (await response.json()) as Echo;
    names.push(echo.backend);
    seen = echo.headers;
  }
  return { names, headers: seen };
}

/** What each balancer prints when a backend leaves the rotation and comes back (HAProxy names servers host:port, or by the name given). */
const healthLines: Record<BalancerKind, { down: (b: Backend) => string; up: (b: Backend) => string; answered503: string }> = {
  node: { down: (b) => `balancer: ${b.host} is down`, up: (b) => `balancer: ${b.host} is up again`, answered503: 'the last: GET /health answered 503' },
  haproxy: { down: (b) => `Server nodes/${b.host} is DOWN`, up: (b) => `Server nodes/${b.host} is UP`, answered503: 'code: 503' },
};
const printed = (balancer: Balancer, text: string) => balancer.process.allLines().find((line) => line.includes(text));

// Node always; HAProxy too when it is installed (CI installs it), as QUARRY_BALANCER=auto would pick it.
const kinds: BalancerKind[] = balancerKindHere('auto') === 'haproxy' ? ['node', 'haproxy'] : ['node'];

let a: Backend;
let b: Backend;
let c: Backend;

beforeAll(async () => {
  [a, b, c] = [await startBackend('A'), await startBackend('B'), await startBackend('C')];
});

afterAll(async () => {
  // A stopped process would not act on SIGTERM until continued.
  for (const p of started) p.kill('SIGCONT');
  await Promise.all(started.map((p) => p.stop(5_000)));
});

describe.each(kinds)('the %s balancer in front of plain backends', (kind) => {
  let balancer: Balancer;
  const lines = healthLines[kind];

  beforeAll(async () => {
    balancer = await startBalancer(kind, [a, b, c]); // the defaults `npm start` uses
  });

  afterAll(async () => {
    await balancer?.process.stop(5_000);
  });

  it('round robin; takes a frozen backend out of the rotation and takes it back once it answers', async () => {
    const first = await answering(balancer.url, 6);
    expect(new Set(first)).toEqual(new Set(['A', 'B', 'C']));
    // Strict: each answer from the backend after the previous one.
    const order = first.slice(0, 3).join('');
    expect(first.join('')).toBe(order + order);

    process.kill(c.process.pid, 'SIGSTOP');
    try {
      await waitFor('the balancer to mark C down', () => printed(balancer, lines.down(c)), { timeoutMs: 20_000 });
      expect(new Set(await answering(balancer.url, 8))).toEqual(new Set(['A', 'B']));
    } finally {
      process.kill(c.process.pid, 'SIGCONT');
    }
    await waitFor('the balancer to take C back', () => printed(balancer, lines.up(c)), { timeoutMs: 20_000 });
    expect(new Set(await answering(balancer.url, 6))).toEqual(new Set(['A', 'B', 'C']));
  });

  it('still tries the backends when every one of them is marked down', async () => {
    const d = await startBackend(`D-${kind}`);
    const lonely = await startBalancer(kind, [d]);
    expect((await getJson(`${d.url}/sick`)).status).toBe(200);
    await waitFor('the balancer to mark D down', () => printed(lonely, lines.down(d)), { timeoutMs: 20_000 });
    expect(printed(lonely, lines.down(d))).toContain(lines.answered503);
    expect(await answering(lonely.url, 3)).toEqual([`D-${kind}`, `D-${kind}`, `D-${kind}`]);
  });

  it('refuses an absolute-form target (400) and client requests for /internal/ (404): no backend hears of them', async () => {
    // A host a client names in an absolute-form target: nothing may connect to it.
    let decoyConnections = 0;
    const decoy = createServer((_req, res) => res.end('decoy')).on('connection', () => decoyConnections++);
    const decoyPort = await freePort();
    await new Promise<void>((resolve) => decoy.listen(decoyPort, '127.0.0.1', resolve));
    const marker = `${kind}-${Date.now()}`;
    const heard = (what: string) => [a, b, c].flatMap((backend) => backend.process.allLines().filter((line) => line.startsWith('request ') && line.includes(`${what}${marker}`)));

    try {
      for (const target of [`http://127.0.0.1:${decoyPort}/lensapi/echo?absolute=${marker}`, `http://127.0.0.1:${balancer.port}/lensapi/echo?absolute=${marker}`]) {
        const answer = await getRequestTarget(balancer.port, target);
        expect([target, answer.status, JSON.parse(answer.text).error]).toEqual([target, 400, 'absolute-form request targets are refused; send the path only']);
      }
      for (const path of ['/internal/results/x?internal=', '/INTERNAL/results?internal=', '//internal/results?internal=', '/%69nternal/results?internal=', '/lensapi/../internal/results?internal=', '/internal?internal=']) {
        const answer = await getRequestTarget(balancer.port, path + marker);
        expect([path, answer.status, JSON.parse(answer.text).error]).toEqual([path, 404, 'no such route']);
      }
      // The same paths are still served when they are not internal: the balancer refuses by path, not by chance.
      expect((await getJson<Echo>(`${balancer.url}/internally/results?internal=${marker}`)).body.url).toBe(`/internally/results?internal=${marker}`);
      await waitFor('a backend to print the request it served', () => heard('internal=').length > 0, { timeoutMs: 5_000 });

      expect(decoyConnections).toBe(0);
      expect(heard('absolute=')).toEqual([]);
      expect(heard('internal=')).toEqual([`request /internally/results?internal=${marker}`]);
    } finally {
      await new Promise((resolve) => decoy.close(resolve));
    }
  });

  it('routes a page sent back for its holder (quarry.holder) to that backend, and the later pages of that result too; tells each backend which it routes to; round robin while that one is down', async () => {
    const routing = await startBalancer(kind, [a, b, c], [], true);
    try {
      const page = (handle: string, holder?: string) => `/lensapi/queryapi/queries/${handle}/resultset?sessionid=s${holder ? `&quarry.holder=${holder}` : ''}`;
      const routed = await answeringPath(routing.url, page('q', 'B'), 6, { 'x-quarry-balancer-routes': 'Z' });
      expect(routed.names).toEqual(['B', 'B', 'B', 'B', 'B', 'B']);
      // Set by the balancer itself: a client's copy is replaced, never passed on.
      expect(routed.headers['x-quarry-balancer-routes']).toBe('A,B,C');
      // The result's later pages, unmarked, go where its last page was sent: no 307 a page.
      expect((await answeringPath(routing.url, page('q'), 3)).names).toEqual(['B', 'B', 'B']);
      // Other results' pages and other requests still go round robin; a name it does not know routes nowhere in particular.
      expect(new Set((await answeringPath(routing.url, page('r'), 3)).names)).toEqual(new Set(['A', 'B', 'C']));
      expect(new Set((await answeringPath(routing.url, '/who', 3)).names)).toEqual(new Set(['A', 'B', 'C']));
      expect(new Set((await answeringPath(routing.url, '/who?quarry.holder=Z', 3)).names)).toEqual(new Set(['A', 'B', 'C']));
      // Sent back to another holder (a re-run elsewhere): the result's pages follow it.
      expect((await answeringPath(routing.url, page('q', 'C'), 1)).names).toEqual(['C']);
      expect((await answeringPath(routing.url, page('q'), 3)).names).toEqual(['C', 'C', 'C']);

      process.kill(c.process.pid, 'SIGSTOP');
      try {
        const down = kind === 'haproxy' ? 'Server nodes/C is DOWN' : lines.down(c);
        await waitFor('the routing balancer to mark C down', () => printed(routing, down), { timeoutMs: 20_000 });
        // Another node gets them (HAProxy then keeps to the one it picked), which forwards the page to its holder or says it is gone.
        const elsewhere = [...(await answeringPath(routing.url, page('q', 'C'), 4)).names, ...(await answeringPath(routing.url, page('q'), 4)).names];
        expect(elsewhere.filter((name) => name !== 'A' && name !== 'B')).toEqual([]);
      } finally {
        process.kill(c.process.pid, 'SIGCONT');
      }
    } finally {
      await routing.process.stop(5_000);
    }
  });

  it('drops the headers only nodes or the balancer set (x-quarry-forwarded-by, x-quarry-cluster-secret, x-quarry-balancer-routes) and appends the client to X-Forwarded-For', async () => {
    const headers = { 'x-quarry-forwarded-by': 'L9', 'x-quarry-cluster-secret': 'guessed', 'x-quarry-balancer-routes': 'L1', 'x-other': 'kept', 'x-forwarded-for': '203.0.113.7' };
    const plain = await fetch(`${balancer.url}/lensapi/echo`, { headers });
    const echo = (await plain.json()) as Echo;
    expect([plain.status, echo.url, echo.headers['x-quarry-forwarded-by'], echo.headers['x-quarry-cluster-secret'], echo.headers['x-quarry-balancer-routes'], echo.headers['x-other'], echo.headers['x-forwarded-for']]).toEqual([
      200,
      '/lensapi/echo',
      undefined,
      undefined,
      undefined,
      'kept',
      '203.0.113.7, 127.0.0.1',
    ]);
  });
});

// What only the Node balancer does: HAProxy neither cuts a request waiting on a backend it marks
// down nor tells waiting for headers from a stalled body (ADR 15).
describe('the node balancer: requests waiting for response headers', () => {
  it('cuts the request waiting on a backend that froze, when it marks it down', async () => {
    const balancer = await startBalancer('node', [a, b, c]);
    // Three requests in a row land on the three backends, and each backend holds its one.
    const held = ['h1', 'h2', 'h3'].map((id) => ({ id, request: watched(`${balancer.url}/hold?id=${id}`, { method: 'POST', body: `payload ${id}` }) }));
    const holderOf = (backend: Backend) => backend.process.allLines().find((line) => line.startsWith('holding h'))?.slice('holding '.length);
    await waitFor('each backend to hold one request', () => [a, b, c].every((backend) => holderOf(backend) !== undefined), { timeoutMs: 15_000 });
    const heldOnC = held.find((h) => h.id === holderOf(c));
    if (!heldOnC) throw new Error(`C holds ${holderOf(c)}, none of ${held.map((h) => h.id).join(', ')}`);

    process.kill(c.process.pid, 'SIGSTOP');
    try {
      // The request C took before it froze is cut when C is marked down, not left to the response
      // timeout: its body reached C, so it is not replayed elsewhere; the client gets a 502 saying why.
      const cut = await settlesWithin(heldOnC.request.answer, 20_000, 'the request held by C');
      expect(cut.status).toBe(502);
      expect(JSON.parse(cut.text).error).toContain(`backend ${c.host} failed: marked down after 2 failed health checks`);
      // The ones A and B hold are still waiting: only the frozen backend's request was cut.
      expect(held.filter((h) => h !== heldOnC).map((h) => h.request.settled)).toEqual([false, false]);
    } finally {
      for (const h of held) h.request.abort();
      process.kill(c.process.pid, 'SIGCONT');
    }
  });

  it('gives up on a backend that sends no response headers in time, but never cuts a response that is streaming', async () => {
    const impatient = await startBalancer('node', [a], ['--response-timeout-ms', '2000']);

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
});

describe('QUARRY_BALANCER', () => {
  it('node forces the Node balancer; a value that is not auto, node or haproxy is refused, naming them', async () => {
    expect(balancerKindHere('node')).toBe('node');
    const run = promisify(execFile)(process.execPath, [BALANCER_COMMAND_SCRIPT, '--which'], { env: { ...process.env, QUARRY_BALANCER: 'nginx' } });
    await expect(run).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('QUARRY_BALANCER must be auto, node or haproxy, got "nginx"') });
  });
});
