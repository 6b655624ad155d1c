import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BaselineRef, BenchContext, BenchRow } from './lib/context';
import { closedLoop, KeepAliveClient, multipartForm, type HttpAnswer, type HttpRequest, type LoadRun } from './lib/http-client';
import { awaitSuccess, inlineResultFrom, lensQueryFrom, openSession, queryHandleFrom, queryStatusRequest, submitQueryRequest, type OpenedSession } from './lib/lens-api';
import { ListeningProcess } from './lib/listening-process';
import { QuarryNode } from './lib/quarry-node';
import { busyShare, machineCpu, processCpuMs, sleep } from './lib/stats';

/**
 * What the HTTP layer costs per request, in CPU of the serving process, so Express and Fastify can
 * be weighed against the query path's budget (issue 11: ≤ 6 ms of machine CPU per SELECT 1).
 *
 * Three servers of bench/lib/framework-server.ts, each its own process (GET /ping, a tiny JSON;
 * POST /form, a multipart form of 4 text fields read by multer as Quarry reads it): node:http
 * alone (the floor), NestJS 11 on Express with Quarry's interceptors, filter and `reply`, and the
 * same on NestJS's Fastify adapter. Then one real Quarry node: GET /health, GET queries/{handle}
 * (a finished query's status) and POST queries (EXECUTE_WITH_TIMEOUT SELECT 1, rows inline).
 * Every target gets the same closed loop (lanes, keep-alive client, length), round after round in
 * alternating order; CPU is the serving process's own, from /proc.
 */

const NAME = 'http-framework';
const FLOOR = 'baseline: node:http';
/** Issue 11's budget for one SELECT 1 through the balancer, all processes of the machine. */
const BUDGET: BaselineRef = { name: 'goal (issue 11)', metric: 'machine CPU per SELECT 1', value: 6000, unit: 'µs' };
const FORM_FIELDS = ['sessionid', 'query', 'operation', 'timeoutmillis'];

export const timeoutMs = 240_000;

interface Settings {
  concurrency: number;
  warmupMs: number;
  runMs: number;
  rounds: number;
  /** How long the Quarry node's background CPU is sampled before its loads. */
  idleMs: number;
  sessions: number;
}

function settings(quick: boolean): Settings {
  return quick
    ? { concurrency: 32, warmupMs: 400, runMs: 1_000, rounds: 3, idleMs: 1_000, sessions: 8 }
    : { concurrency: 32, warmupMs: 1_000, runMs: 3_000, rounds: 3, idleMs: 2_000, sessions: 8 };
}

/** One thing to load: a route of one server process, whose CPU is read from /proc. */
interface Target {
  server: string;
  route: string;
  /** The floor it is compared with: node:http's GET or its multipart POST. */
  floor: 'get' | 'post';
  client: KeepAliveClient;
  request: (i: number) => HttpRequest;
  ok: (answer: HttpAnswer) => boolean;
  cpuMs: () => number | undefined;
  /** Cores' worth the process uses with no request (a Quarry node's timers and consumers), taken off its figure. */
  idleShare: number;
}

interface Measured {
  target: Target;
  runs: { run: LoadRun; cpuMs: number; machineBusyShare: number }[];
}

const FRAMEWORK_SERVERS = [
  { kind: 'raw', server: 'node:http' },
  { kind: 'express', server: 'NestJS + Express' },
  { kind: 'fastify', server: 'NestJS + Fastify' },
] as const;

/** A form like a query submit's: an XML session handle, the statement, the operation, a timeout. */
function submitLikeForm(): { body: string; contentType: string } {
  const sessionid = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><lensSessionHandle><publicId>${randomUUID()}</publicId><secretId>${randomUUID()}</secretId></lensSessionHandle>`;
  return multipartForm({ sessionid, query: 'SELECT 1', operation: 'EXECUTE_WITH_TIMEOUT', timeoutmillis: '30000' });
}

async function frameworkTargets(ctx: BenchContext, s: Settings): Promise<Target[]> {
  const form = submitLikeForm();
  const targets: Target[] = [];
  for (const { kind, server } of FRAMEWORK_SERVERS) {
    const serverProcess = await ListeningProcess.start(ctx, {
      what: `the ${server} bench server`,
      args: [join(__dirname, 'lib', 'framework-server.js'), kind],
      urlFrom: (line) => /^listening (http:\/\/\S+)$/.exec(line)?.[1],
    });
    const client = new KeepAliveClient(serverProcess.url, s.concurrency);
    ctx.defer(() => client.close());
    const cpuMs = () => (serverProcess.pid === undefined ? undefined : processCpuMs(serverProcess.pid));
    targets.push(
      { server, route: 'GET tiny JSON', floor: 'get', client, cpuMs, idleShare: 0, request: () => ({ path: '/ping', headers: { accept: 'application/json' } }), ok: (a) => a.status === 200 && a.body === '{"ok":true}' },
      {
        server,
        route: 'POST multipart, 4 fields',
        floor: 'post',
        client,
        cpuMs,
        idleShare: 0,
        request: () => ({ method: 'POST', path: '/form', headers: { 'content-type': form.contentType, accept: 'application/json' }, body: form.body }),
        ok: (a) => a.status === 200 && a.body.includes(FORM_FIELDS.join(',')),
      },
    );
  }
  return targets;
}

/** One Quarry node (all services) with a warehouse of its own, and its three routes. */
async function quarryTargets(ctx: BenchContext, s: Settings): Promise<Target[]> {
  const warehouse = await ctx.createDatabase('wh');
  const duckdbDir = mkdtempSync(join(tmpdir(), 'quarry-bench-duck-'));
  ctx.defer(() => rmSync(duckdbDir, { recursive: true, force: true }));
  const node = await QuarryNode.start(ctx, {
    nodeId: 'L1',
    env: { QUARRY_PG_WAREHOUSE_URL: warehouse.readerUrl, QUARRY_DUCKDB_WAREHOUSE: duckdbDir, QUARRY_MAX_RUNNING_QUERIES: '16', QUARRY_MAX_SESSIONS_PER_USER: '100000' },
  });
  const client = new KeepAliveClient(node.url, s.concurrency);
  ctx.defer(() => client.close());

  const sessions: OpenedSession[] = [];
  const finished: string[] = [];
  for (let k = 0; k < s.sessions; k++) {
    const session = await openSession(client, `bench-http-${k}`);
    const handle = queryHandleFrom(await client.request(submitQueryRequest(session, 'SELECT 1', 'EXECUTE')));
    await awaitSuccess(client, session, handle, { intervalMs: 5, deadlineMs: 10_000, signal: ctx.signal });
    sessions.push(session);
    finished.push(handle);
  }
  const status = sessions.map((session, k) => queryStatusRequest(session, finished[k]));
  const submit = sessions.map((session) => ({ ...submitQueryRequest(session, 'SELECT 1', 'EXECUTE_WITH_TIMEOUT', { timeoutmillis: '30000' }), timeoutMs: 35_000 }));

  const cpuMs = () => node.cpuMs();
  const cpu0 = cpuMs();
  const t0 = performance.now();
  await sleep(s.idleMs);
  const idleShare = ((cpuMs() ?? Number.NaN) - (cpu0 ?? Number.NaN)) / (performance.now() - t0);
  ctx.log(`Quarry node idle: ${(idleShare * 100).toFixed(1)}% of a core (taken off its figures)`);

  const server = 'Quarry node';
  // The same request made to go through Express and Nest: a validator that matches nothing is not "plain" (ADR 17).
  const fullWay = (request: HttpRequest): HttpRequest => ({ ...request, headers: { ...request.headers, 'if-none-match': '"full way"' } });
  const submitOk = (a: HttpAnswer) => {
    if (a.status !== 200) return false;
    const result = inlineResultFrom(a);
    return result.status === 'SUCCESSFUL' && result.rows?.[0]?.[0] === 1;
  };
  const statusOk = (a: HttpAnswer) => a.status === 200 && lensQueryFrom(a).status.status === 'SUCCESSFUL';
  return [
    { server, route: 'GET /health', floor: 'get', client, cpuMs, idleShare, request: () => ({ path: '/health', headers: { accept: 'application/json' } }), ok: (a) => a.status === 200 },
    {
      server,
      route: 'GET queries/{handle}',
      floor: 'get',
      client,
      cpuMs,
      idleShare,
      request: (i) => status[i % status.length],
      ok: statusOk,
    },
    { server, route: 'GET queries/{handle} through Express and Nest', floor: 'get', client, cpuMs, idleShare, request: (i) => fullWay(status[i % status.length]), ok: statusOk },
    {
      server,
      route: 'POST queries EXECUTE_WITH_TIMEOUT SELECT 1',
      floor: 'post',
      client,
      cpuMs,
      idleShare,
      request: (i) => submit[i % submit.length],
      ok: submitOk,
    },
    { server, route: 'POST queries EXECUTE_WITH_TIMEOUT SELECT 1 through Express and Nest', floor: 'post', client, cpuMs, idleShare, request: (i) => fullWay(submit[i % submit.length]), ok: submitOk },
  ];
}

async function load(ctx: BenchContext, s: Settings, target: Target, durationMs: number) {
  const cpu0 = target.cpuMs();
  const machine0 = machineCpu();
  const run = await closedLoop({ client: target.client, concurrency: s.concurrency, durationMs, request: target.request, ok: target.ok, signal: ctx.signal });
  const cpu1 = target.cpuMs();
  if (run.errors > 0) throw new Error(`${target.server} ${target.route}: ${run.errors} of ${run.requests + run.errors} requests failed, first: ${run.firstError}`);
  if (cpu0 === undefined || cpu1 === undefined) throw new Error(`${target.server}: its CPU cannot be read (no /proc, or the process is gone)`);
  return { run, cpuMs: cpu1 - cpu0, machineBusyShare: busyShare(machine0, machineCpu()) };
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const s = settings(ctx.quick);
  ctx.log('starting the node:http, NestJS + Express and NestJS + Fastify servers, and a Quarry node');
  const targets = [...(await frameworkTargets(ctx, s)), ...(await quarryTargets(ctx, s))];

  ctx.log(`warm-up ${s.warmupMs} ms each, then ${s.rounds} rounds of ${s.runMs / 1000} s per target, ${s.concurrency} lanes, keep-alive, alternating order`);
  for (const target of targets) await load(ctx, s, target, s.warmupMs);
  const measured: Measured[] = targets.map((target) => ({ target, runs: [] }));
  for (let round = 0; round < s.rounds; round++) {
    const order = round % 2 === 0 ? measured : [...measured].reverse();
    for (const m of order) m.runs.push(await load(ctx, s, m.target, s.runMs));
  }
  for (const m of measured) {
    const f = figures(m);
    ctx.log(`  ${m.target.server} ${m.target.route}: ${Math.round(f.perSecond)} req/s, ${f.cpuUsPerRequest.toFixed(0)} µs CPU/request, server ${(f.serverShare * 100).toFixed(0)}% of a core`);
  }
  return rows(measured);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** CPU per request over all rounds (net of the idle background), the median rate, and how busy the server was. */
function figures({ target, runs }: Measured) {
  const requests = runs.reduce((sum, r) => sum + r.run.requests, 0);
  const elapsedMs = runs.reduce((sum, r) => sum + r.run.elapsedMs, 0);
  const cpuMs = runs.reduce((sum, r) => sum + r.cpuMs, 0);
  return {
    perSecond: median(runs.map((r) => r.run.perSecond)),
    cpuUsPerRequest: ((cpuMs - target.idleShare * elapsedMs) * 1000) / requests,
    rawCpuUsPerRequest: (cpuMs * 1000) / requests,
    serverShare: cpuMs / elapsedMs,
    requests,
  };
}

function rows(measured: Measured[]): BenchRow[] {
  const find = (server: string, route: string) => {
    const found = measured.find((m) => m.target.server === server && m.target.route.startsWith(route));
    if (!found) throw new Error(`no ${server} ${route} was measured`);
    return found;
  };
  const cpuRef = (m: Measured, name = NAME): BaselineRef => ({ name, metric: `${m.target.server} ${m.target.route}: CPU per request`, value: figures(m).cpuUsPerRequest, unit: 'µs' });
  const rateRef = (m: Measured, name = NAME): BaselineRef => ({ name, metric: `${m.target.server} ${m.target.route}: throughput`, value: figures(m).perSecond, unit: 'req/s' });
  const floors = { get: find('node:http', 'GET'), post: find('node:http', 'POST') };
  const detailOf = (m: Measured) => {
    const f = figures(m);
    return {
      requests: f.requests,
      serverCpuShare: f.serverShare,
      idleShare: m.target.idleShare,
      rawCpuUsPerRequest: f.rawCpuUsPerRequest,
      statistic: 'CPU: all rounds together; req/s: median of the rounds',
      runs: m.runs.map((r) => ({ perSecond: r.run.perSecond, requests: r.run.requests, elapsedMs: r.run.elapsedMs, cpuMs: r.cpuMs, p50: r.run.latency.p50, p99: r.run.latency.p99, clientCpuShare: r.run.clientCpuShare, machineBusyShare: r.machineBusyShare })),
    };
  };
  const out: BenchRow[] = [];
  for (const m of measured) {
    const isFloor = m === floors.get || m === floors.post;
    const floor = floors[m.target.floor];
    const cpu = cpuRef(m, isFloor ? FLOOR : NAME);
    const rate = rateRef(m, isFloor ? FLOOR : NAME);
    out.push(isFloor ? { ...cpu, detail: detailOf(m) } : { ...cpu, baseline: cpuRef(floor, FLOOR), detail: detailOf(m) });
    out.push(isFloor ? rate : { ...rate, baseline: rateRef(floor, FLOOR) });
  }
  // What moving to Fastify would save per request, as a share of the whole query's budget.
  for (const route of ['GET', 'POST'] as const) {
    const saved = figures(find('NestJS + Express', route)).cpuUsPerRequest - figures(find('NestJS + Fastify', route)).cpuUsPerRequest;
    out.push({ name: NAME, metric: `Express - Fastify, ${route}: CPU per request saved`, value: saved, unit: 'µs', baseline: BUDGET });
  }
  // What answering ahead of Express and Nest (FastRoutes) saves on the node's two hottest Lens routes.
  for (const route of ['GET queries/{handle}', 'POST queries EXECUTE_WITH_TIMEOUT SELECT 1'] as const) {
    const full = find('Quarry node', `${route} through Express and Nest`);
    out.push({ ...cpuRef(find('Quarry node', route)), metric: `Quarry node ${route}: CPU per request, ahead of Express against through it`, baseline: cpuRef(full) });
  }
  // The framework's whole cost for the submit (Express, multipart, Quarry's interceptors) beside what the node spends per query.
  const query = find('Quarry node', 'POST queries');
  out.push({ ...cpuRef(find('NestJS + Express', 'POST')), metric: 'NestJS + Express POST multipart, beside a query', baseline: cpuRef(query) });
  return out;
}
