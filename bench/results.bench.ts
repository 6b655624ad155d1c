import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMigrations } from '@quarry/eventstore';
import { ALL_MIGRATIONS } from '@quarry/node-runtime';
import { startCluster, type BenchCluster } from './lib/cluster';
import type { BaselineRef, BenchContext, BenchRow } from './lib/context';
import { countNewlines, type HttpAnswer, type KeepAliveClient } from './lib/http-client';
import {
  awaitSuccess,
  deleteResultSetRequest,
  httpResultSetRequest,
  lensConf,
  openSession,
  persistentResultFrom,
  queryHandleFrom,
  rowsQuery,
  resultSetRequest,
  submitQueryRequest,
  type OpenedSession,
} from './lib/lens-api';
import { psqlCopy, type CopyRun } from './lib/psql-copy-baseline';
import { fullPageCheck, quickPageCheck } from './lib/rows-page-check';
import { scratchPool } from './lib/stack-processes';
import { processCpuMs, summarize } from './lib/stats';

/**
 * Getting big results out of a cluster: three real node processes (L1, L2, L3) with a warehouse
 * database of this bench's own for the pg driver, a result folder of its own, and
 * tools/stack/balancer.mjs in front of them.
 *
 * 1. A 1,000,000-row persisted result (CSV in QUARRY_RESULT_DIR) downloaded through the balancer,
 *    streamed and counted, against `psql -c "COPY (same query) TO STDOUT"` on the same warehouse.
 * 2. An in-memory (non-persisted) result, which lives only in the memory of the node that ran
 *    the query, fetched page by page, alternately:
 *    - from that node (the holder), directly;
 *    - through the balancer, which names the nodes by id: a page round robin gives to a node that
 *      does not hold the result comes back as a relative 307 marked for the holder, which the
 *      balancer routes to it (ADR 21); the bench follows it as a Lens client does. Issue 11's goal 7
 *      compares these pages (the 307 and the page) with the direct ones, page time against page time;
 *    - from a node that does not hold it, directly (no balancer: it forwards the request to the
 *      holder and streams its answer back), the fallback path, reported.
 *    Each node's `quarry_result_pages_total` counter must show that each took place as it should.
 */

const NAME = 'results';
const PARTITIONS = 3;
const POLL_INTERVAL_MS = 10;
const QUERY_DEADLINE_MS = 60_000;
/** A download or a page that goes quiet this long fails. */
const TRANSFER_IDLE_MS = 30_000;
/** Most rows one resultset answer carries (MAX_FETCH of libs/query). */
const FETCH_SIZE = 10_000;
/** The aims: the download's of issue 5, the in-memory pages' of issue 11 (goal 7). */
const DOWNLOAD_AIM = 0.5;
const FORWARD_AIM = 0.9;
const HOLDER_AIM_ROWS_PER_SECOND = 500_000;

interface Settings {
  /** Part 1: rows of the download, untimed warm-up rows (one download and one COPY), measured repetitions of each. */
  downloadRows: number;
  downloadWarmupRows: number;
  downloadRepeats: number;
  /** Part 2: rows of the in-memory result, measured rounds (one direct, one routed and one forwarded fetch each). */
  fetchRows: number;
  fetchRounds: number;
}

function settings(quick: boolean): Settings {
  return quick
    ? { downloadRows: 1_000_000, downloadWarmupRows: 50_000, downloadRepeats: 2, fetchRows: 50_000, fetchRounds: 3 }
    : { downloadRows: 1_000_000, downloadWarmupRows: 100_000, downloadRepeats: 4, fetchRows: 200_000, fetchRounds: 8 };
}

/** The middle value (the mean of the middle two for an even count). */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? Number.NaN : sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const perSecond = (rows: number, ms: number) => (rows / ms) * 1000;
/** 1000000 → 1M, 50000 → 50k, for row labels. */
const count = (n: number) => (n % 1_000_000 === 0 ? `${n / 1_000_000}M` : n % 1000 === 0 ? `${n / 1000}k` : n.toLocaleString('en-US'));
const fmt = (rate: number) => `${Math.round(rate).toLocaleString('en-US')} rows/s`;

/** What one persisted download took. */
interface Download {
  handle: string;
  rows: number;
  bytes: number;
  /** From sending the EXECUTE to reading SUCCESSFUL (polled through the balancer every ~10 ms). */
  executeMs: number;
  /** GET resultset (the persisted result's size and URL). */
  resultInfoMs: number;
  /** GET httpresultset, from sending it to its last byte. */
  downloadMs: number;
  downloadFirstByteMs: number;
  /** From sending the EXECUTE to the last byte of the download. */
  endToEndMs: number;
  polls: number;
}

/**
 * Submits `query` with a persistent result set through the balancer, waits for SUCCESSFUL, reads
 * the result's size with GET resultset, then downloads it with GET httpresultset, counting bytes
 * and lines as they stream. Checks the count of lines and bytes against what the server reported,
 * then deletes the result (untimed) so the result folder does not grow.
 */
async function persistedDownload(ctx: BenchContext, client: KeepAliveClient, session: OpenedSession, rows: number): Promise<Download> {
  const conf = lensConf({ 'lens.query.enable.persistent.resultset': 'true', 'lens.query.output.write.header': 'false', 'lens.query.driver': 'pg' });
  const t0 = performance.now();
  const handle = queryHandleFrom(await client.request(submitQueryRequest(session, rowsQuery(rows), 'EXECUTE', { conf })));
  const { polls } = await awaitSuccess(client, session, handle, { intervalMs: POLL_INTERVAL_MS, deadlineMs: QUERY_DEADLINE_MS, signal: ctx.signal });
  const executeMs = performance.now() - t0;
  const infoAnswer = await client.request(resultSetRequest(session, handle));
  const info = persistentResultFrom(infoAnswer);
  let lines = 0;
  const answer = await client.stream({ ...httpResultSetRequest(session, handle), timeoutMs: TRANSFER_IDLE_MS }, (chunk) => (lines += countNewlines(chunk)));
  const endToEndMs = performance.now() - t0;
  if (answer.status !== 200) throw new Error(`GET httpresultset of ${handle}: HTTP ${answer.status}`);
  if (lines !== rows || info.numRows !== rows || answer.bytes !== info.fileSize) {
    throw new Error(`download of ${handle}: ${lines} lines and ${answer.bytes} bytes, the server reported ${info.numRows} rows and ${info.fileSize} bytes, the query makes ${rows} rows`);
  }
  const deleted = await client.request(deleteResultSetRequest(session, handle));
  if (deleted.status !== 200) throw new Error(`DELETE resultset of ${handle}: HTTP ${deleted.status} ${deleted.body.slice(0, 200)}`);
  return { handle, rows, bytes: answer.bytes, executeMs, resultInfoMs: infoAnswer.ms, downloadMs: answer.ms, downloadFirstByteMs: answer.firstByteMs, endToEndMs, polls };
}

async function copyBaseline(ctx: BenchContext, warehouseUrl: string, rows: number): Promise<CopyRun> {
  const run = await psqlCopy(warehouseUrl, rowsQuery(rows), ctx.signal);
  if (run.lines !== rows) throw new Error(`psql COPY wrote ${run.lines} lines for ${rows} rows`);
  return run;
}

/** What one paged fetch of a whole in-memory result took. */
interface Fetch {
  node: string;
  rows: number;
  pages: number;
  ms: number;
  pageMs: number[];
  /** Pages answered with a 307 marked for the holder and then fetched from there: how many, their rows, their time (both requests). */
  sentBack: { pages: number; redirectMs: number[] };
  /**
   * CPU time (user + system) per page of the holder, of the node asked when it is another one
   * (the forwarder), and of the bench process (the client: its requests and the quick check of
   * each page, not the full check after the clock): less swayed by other work on the machine
   * than the rates.
   */
  cpuMsPerPage?: { holder: number; forwarder?: number; others?: number; balancer?: number; client: number };
}

/** A page as it came, kept for the full check once the clock has stopped. */
interface FetchedPage {
  answer: HttpAnswer;
  from: number;
  rows: number;
}

/**
 * GET resultset page by page (fetchsize 10,000) from `client` until a short page, following a
 * relative 307 once, as a Lens client does (never a second: that would be a loop). Each page gets
 * the quick check on the clock (its rows counted, the first and last checked); the pages are
 * kept (`fetched`) for fullCheck once the clock has stopped.
 */
async function fetchAll(ctx: BenchContext, client: KeepAliveClient, node: string, session: OpenedSession, handle: string, rows: number, holderMark?: string): Promise<Fetch & { fetched: FetchedPage[] }> {
  const pageMs: number[] = [];
  const fetched: FetchedPage[] = [];
  const sentBack = { pages: 0, redirectMs: [] as number[] };
  let from = 0;
  const t0 = performance.now();
  for (;;) {
    ctx.signal.throwIfAborted();
    const what = `${node}: page from ${from} of ${handle}`;
    const asked = resultSetRequest(session, handle, { fromIndex: from, fetchSize: FETCH_SIZE });
    const request = { ...asked, path: holderMark === undefined ? asked.path : `${asked.path}&quarry.holder=${encodeURIComponent(holderMark)}`, timeoutMs: TRANSFER_IDLE_MS };
    const answer = await client.requestFollowing(request);
    // Still a 307: one to another host, or a page sent back twice (a loop).
    if (answer.status === 307) throw new Error(`${what}: a 307 not followed (to ${answer.location})`);
    pageMs.push(answer.ms);
    const count = quickPageCheck(answer, from, what);
    fetched.push({ answer, from, rows: count });
    if (answer.redirectMs !== undefined) {
      sentBack.pages++;
      sentBack.redirectMs.push(answer.redirectMs);
    }
    from += count;
    if (count < FETCH_SIZE) break;
  }
  const ms = performance.now() - t0;
  if (from !== rows) throw new Error(`${node}: fetched ${from} rows of ${handle}, expected ${rows}`);
  return { node, rows: from, pages: pageMs.length, ms, pageMs, sentBack, fetched };
}

/** Every page of a fetch parsed whole and every row's values checked (off the clock). */
function fullCheck(node: string, handle: string, pages: FetchedPage[]): void {
  for (const page of pages) fullPageCheck(page.answer, page.from, page.rows, `${node}: page from ${page.from} of ${handle}`);
}

/** The node that ran the query (its QueryLaunched), which holds an in-memory result. */
async function executorOf(databaseUrl: string, handle: string): Promise<string> {
  const pool = scratchPool(databaseUrl);
  try {
    const { rows } = await pool.query<{ node: string | null }>(`SELECT payload->>'executorNodeId' AS node FROM events WHERE stream_id = $1 AND type = 'QueryLaunched'`, [`query-${handle}`]);
    const node = rows[0]?.node;
    if (!node) throw new Error(`no QueryLaunched with an executorNodeId for query ${handle}`);
    return node;
  } finally {
    await pool.end();
  }
}

/** Where a query's time went on the server: from the `occurred_at` (whole ms) of its events. */
interface ServerStages {
  /** QuerySubmitted → QueryLaunched: the submit's commit, NOTIFY, a node claiming it. */
  queuedMs: number;
  /** QueryLaunched → QueryExecuted: running the statement on the warehouse and writing the CSV (the pg driver's COPY ... TO STDOUT). */
  executingMs: number;
  /** QueryExecuted → QuerySucceeded. */
  finishingMs: number;
  executor?: string;
}

async function serverStagesOf(databaseUrl: string, handles: string[]): Promise<Map<string, ServerStages>> {
  const pool = scratchPool(databaseUrl);
  try {
    const { rows } = await pool.query<{ stream_id: string; type: string; occurred_at: Date; executor: string | null }>(
      `SELECT stream_id, type, occurred_at, payload->>'executorNodeId' AS executor FROM events WHERE stream_id = ANY($1)`,
      [handles.map((h) => `query-${h}`)],
    );
    const byHandle = new Map<string, Map<string, number>>();
    const executors = new Map<string, string>();
    for (const row of rows) {
      const handle = row.stream_id.slice('query-'.length);
      const times = byHandle.get(handle) ?? new Map<string, number>();
      times.set(row.type, row.occurred_at.getTime());
      byHandle.set(handle, times);
      if (row.type === 'QueryLaunched' && row.executor) executors.set(handle, row.executor);
    }
    const stages = new Map<string, ServerStages>();
    for (const handle of handles) {
      const t = byHandle.get(handle) ?? new Map<string, number>();
      const between = (from: string, to: string) => (t.get(to) ?? Number.NaN) - (t.get(from) ?? Number.NaN);
      stages.set(handle, {
        queuedMs: between('QuerySubmitted', 'QueryLaunched'),
        executingMs: between('QueryLaunched', 'QueryExecuted'),
        finishingMs: between('QueryExecuted', 'QuerySucceeded'),
        executor: executors.get(handle),
      });
    }
    return stages;
  } finally {
    await pool.end();
  }
}

/** Pages of in-memory results a node answered, by how (`here`, `forwarded`, `redirected`, `gone`). */
const PAGES_METRIC = 'quarry_result_pages_total';
type PageCounts = Record<string, number>;
/** `quarry_result_pages_total{served="forwarded"} 12`: the label and the value. */
const PAGES_LINE = new RegExp(`^${PAGES_METRIC}\\{(?:[^}]*,)?served="([^"]+)"[^}]*\\}\\s+(\\S+)`);
const READ_AHEAD_METRIC = 'quarry_result_read_ahead_total';
/** `quarry_result_read_ahead_total{outcome="used"} 19`: counted as `read ahead, used`. */
const READ_AHEAD_LINE = new RegExp(`^${READ_AHEAD_METRIC}\\{(?:[^}]*,)?outcome="([^"]+)"[^}]*\\}\\s+(\\S+)`);

/**
 * The `quarry_result_pages_total{served="…"}` counters of one node, and its pages read ahead
 * (`read ahead, <outcome>`), read from its /metrics (a counter not yet incremented is absent there: 0).
 */
async function pageCountsOf(client: KeepAliveClient, node: string): Promise<PageCounts> {
  const answer = await client.request({ path: '/metrics', timeoutMs: TRANSFER_IDLE_MS });
  if (answer.status !== 200) throw new Error(`GET /metrics of ${node}: HTTP ${answer.status}`);
  const counts: PageCounts = {};
  for (const line of answer.body.split('\n')) {
    const match = PAGES_LINE.exec(line);
    if (match) counts[match[1]] = (counts[match[1]] ?? 0) + Number(match[2]);
    const ahead = READ_AHEAD_LINE.exec(line);
    if (ahead) counts[`read ahead, ${ahead[1]}`] = (counts[`read ahead, ${ahead[1]}`] ?? 0) + Number(ahead[2]);
  }
  return counts;
}

/** How each node's counters moved over a stretch: after - before, per `served` label. */
function pageCountsGrowth(before: PageCounts[], after: PageCounts[]): PageCounts[] {
  return after.map((counts, i) => {
    const growth: PageCounts = {};
    for (const served of new Set([...Object.keys(counts), ...Object.keys(before[i])])) growth[served] = (counts[served] ?? 0) - (before[i][served] ?? 0);
    return growth;
  });
}

interface DownloadPart {
  quarry: (Download & { server?: ServerStages })[];
  copy: CopyRun[];
}

async function downloads(ctx: BenchContext, s: Settings, cluster: BenchCluster, warehouseUrl: string): Promise<DownloadPart> {
  const session = await openSession(cluster.viaBalancer, 'bench-download');
  ctx.log(`${s.downloadRows.toLocaleString('en-US')}-row download: warm-up with ${s.downloadWarmupRows.toLocaleString('en-US')} rows, then ${s.downloadRepeats} × (Quarry via the balancer, psql COPY) alternately`);
  await persistedDownload(ctx, cluster.viaBalancer, session, s.downloadWarmupRows);
  await copyBaseline(ctx, warehouseUrl, s.downloadWarmupRows);
  const part: DownloadPart = { quarry: [], copy: [] };
  for (let i = 0; i < s.downloadRepeats; i++) {
    // Alternate which goes first, so drift on the machine falls on both alike.
    const order = i % 2 === 0 ? ['copy', 'quarry'] : ['quarry', 'copy'];
    for (const which of order) {
      cluster.alive();
      if (which === 'copy') {
        const run = await copyBaseline(ctx, warehouseUrl, s.downloadRows);
        part.copy.push(run);
        ctx.log(`  COPY: ${run.ms.toFixed(0)} ms, ${fmt(perSecond(s.downloadRows, run.ms))}, ${(run.bytes / 1e6).toFixed(1)} MB`);
      } else {
        const d = await persistedDownload(ctx, cluster.viaBalancer, session, s.downloadRows);
        part.quarry.push(d);
        ctx.log(
          `  Quarry: execute ${d.executeMs.toFixed(0)} ms (${d.polls} polls), resultset ${d.resultInfoMs.toFixed(1)} ms, download ${d.downloadMs.toFixed(0)} ms ` +
            `(${fmt(perSecond(d.rows, d.downloadMs))}, ${(d.bytes / 1e6).toFixed(1)} MB), end to end ${d.endToEndMs.toFixed(0)} ms (${fmt(perSecond(d.rows, d.endToEndMs))})`,
        );
      }
    }
  }
  const stages = await serverStagesOf(ctx.databaseUrl, part.quarry.map((q) => q.handle));
  for (const q of part.quarry) q.server = stages.get(q.handle);
  const ms = (pick: (x: ServerStages) => number) => median(part.quarry.map((q) => (q.server ? pick(q.server) : Number.NaN))).toFixed(0);
  ctx.log(`  on the server (median): queued ${ms((x) => x.queuedMs)} ms, executing (statement + CSV) ${ms((x) => x.executingMs)} ms, finishing ${ms((x) => x.finishingMs)} ms`);
  return part;
}

interface FetchPart {
  /** Each round's result and the node that held it. */
  results: { handle: string; holder: string }[];
  direct: Fetch[];
  /** Through the balancer: a first page given to a non-holder is sent back to the holder, and the balancer keeps the rest there (ADR 21). */
  routed: Fetch[];
  /** Through the balancer straight to the holder (every page marked with quarry.holder): the balancer's own part. */
  balanced: Fetch[];
  forwarded: Fetch[];
  /** Per node: how its `quarry_result_pages_total` moved over the part (warm-up included). */
  pageCounts: Record<string, PageCounts>;
}

/** Pages the bench asked, by way (warm-up included): to check each node's counters against. */
interface PagesAsked {
  /** Of the holder, directly. */
  ofHolder: number;
  /** Of each node (by index) while it did not hold the result, directly: it forwards them. */
  ofNonHolder: number[];
  viaBalancer: number;
  /** Of those through the balancer, the ones a node answered with a 307 to the holder. */
  sentBack: number;
}

/**
 * A fresh in-memory result each round (the balancer has not seen it: its first page goes where
 * round robin sends it), fetched whole one way, the four ways in turns: through the balancer,
 * through the balancer marked for the holder, from the holder, and from a non-holder (forwarded).
 * A first round is a warm-up. Each result is deleted after its round.
 */
async function inMemoryFetches(ctx: BenchContext, s: Settings, cluster: BenchCluster): Promise<FetchPart> {
  const session = await openSession(cluster.viaBalancer, 'bench-fetch');
  const conf = lensConf({ 'lens.query.enable.persistent.resultset': 'false', 'lens.query.driver': 'pg' });
  ctx.log(
    `in-memory fetches of ${s.fetchRows.toLocaleString('en-US')} rows (pages of ${FETCH_SIZE.toLocaleString('en-US')}): a warm-up round, then ${s.fetchRounds} rounds a way, ` +
      'each a fresh result fetched one way, in turns: through the balancer (routed), through the balancer marked for its holder (balanced), from its holder (direct), from a non-holder (forwarded)',
  );
  const readCounts = () => Promise.all(cluster.nodes.map((n, i) => pageCountsOf(cluster.direct[i], n.nodeId)));
  const countsBefore = await readCounts();
  const asked: PagesAsked = { ofHolder: 0, ofNonHolder: cluster.nodes.map(() => 0), viaBalancer: 0, sentBack: 0 };
  const balancerCpuMs = () => (cluster.balancer.pid === undefined ? Number.NaN : (processCpuMs(cluster.balancer.pid) ?? Number.NaN));
  const part: FetchPart = { results: [], direct: [], routed: [], balanced: [], forwarded: [], pageCounts: {} };

  const ways = ['routed', 'balanced', 'direct', 'forwarded'] as const;
  for (let round = -1; round < s.fetchRounds * ways.length; round++) {
    cluster.alive();
    const handle = queryHandleFrom(await cluster.viaBalancer.request(submitQueryRequest(session, rowsQuery(s.fetchRows), 'EXECUTE', { conf })));
    await awaitSuccess(cluster.viaBalancer, session, handle, { intervalMs: POLL_INTERVAL_MS, deadlineMs: QUERY_DEADLINE_MS, signal: ctx.signal });
    const holder = await executorOf(ctx.databaseUrl, handle);
    const holderIndex = cluster.nodes.findIndex((n) => n.nodeId === holder);
    if (holderIndex < 0) throw new Error(`query ${handle} ran on ${holder}, not one of this bench's nodes`);
    const others = cluster.nodes.map((_, i) => i).filter((i) => i !== holderIndex);
    if (round >= 0) part.results.push({ handle, holder });

    /** A whole fetch from node `i` directly, or through the balancer (`i` undefined), every page marked for the holder or not. */
    const fetchFrom = async (i: number | undefined, marked = false) => {
      const othersCpu = () => others.reduce((sum, o) => sum + (cluster.nodes[o].cpuMs() ?? Number.NaN), 0);
      const [holder0, asked0, others0, balancer0, client0] = [cluster.nodes[holderIndex].cpuMs(), i === undefined ? undefined : cluster.nodes[i].cpuMs(), othersCpu(), balancerCpuMs(), process.cpuUsage()];
      const [client, node] = i === undefined ? [cluster.viaBalancer, 'the balancer'] : [cluster.direct[i], cluster.nodes[i].nodeId];
      const { fetched, ...f } = await fetchAll(ctx, client, node, session, handle, s.fetchRows, marked ? holder : undefined);
      const [holder1, asked1, others1, balancer1, client1] = [cluster.nodes[holderIndex].cpuMs(), i === undefined ? undefined : cluster.nodes[i].cpuMs(), othersCpu(), balancerCpuMs(), process.cpuUsage(client0)];
      fullCheck(f.node, handle, fetched);
      const perPage = (before?: number, after?: number) => (before === undefined || after === undefined ? Number.NaN : (after - before) / f.pages);
      f.cpuMsPerPage = {
        holder: perPage(holder0, holder1),
        ...(i !== undefined && i !== holderIndex && { forwarder: perPage(asked0, asked1) }),
        ...(i === undefined && { others: perPage(others0, others1), balancer: perPage(balancer0, balancer1) }),
        client: (client1.user + client1.system) / 1000 / f.pages,
      };
      if (i === undefined) Object.assign(asked, { viaBalancer: asked.viaBalancer + f.pages, sentBack: asked.sentBack + f.sentBack.pages });
      else if (i === holderIndex) asked.ofHolder += f.pages;
      else asked.ofNonHolder[i] += f.pages;
      return f;
    };
    const steps = {
      routed: () => fetchFrom(undefined),
      direct: () => fetchFrom(holderIndex),
      balanced: () => fetchFrom(undefined, true),
      forwarded: () => fetchFrom(others[Math.floor(round / ways.length) % others.length]),
    };
    // One way a round, each in turn, each on a result of its own: a fetch changes what the next
    // finds (the balancer remembers a result's holder once a page marked for it has passed; the
    // holder collects what the last fetch left), so every timed fetch comes after the same thing,
    // an untimed fetch from the holder directly (which the balancer does not see).
    asked.ofHolder += (await fetchAll(ctx, cluster.direct[holderIndex], holder, session, handle, s.fetchRows)).pages;
    if (round >= 0) {
      const step = ways[round % ways.length];
      const f = await steps[step]();
      part[step].push(f);
      const cpu = f.cpuMsPerPage!;
      const cpuText = [
        `holder ${cpu.holder.toFixed(1)} ms`,
        cpu.forwarder !== undefined && `forwarder ${cpu.forwarder.toFixed(1)} ms`,
        cpu.others !== undefined && `non-holders ${cpu.others.toFixed(2)} ms`,
        cpu.balancer !== undefined && `balancer ${cpu.balancer.toFixed(2)} ms`,
        `client ${cpu.client.toFixed(1)} ms`,
      ].filter(Boolean);
      const sentBack = step === 'routed' ? ` (${f.sentBack.pages === 0 ? 'none' : `${f.sentBack.pages}, ${summarize(f.sentBack.redirectMs).p50.toFixed(1)} ms with its 307,`} sent back to ${holder})` : '';
      ctx.log(`  ${step} from ${f.node}: ${f.ms.toFixed(0)} ms, ${fmt(perSecond(f.rows, f.ms))}, page p50 ${summarize(f.pageMs).p50.toFixed(1)} ms${sentBack}; CPU per page: ${cpuText.join(', ')}`);
    } else {
      await steps.forwarded(); // warms the forwarding way too
    }
    const deleted = await cluster.viaBalancer.request(deleteResultSetRequest(session, handle));
    if (deleted.status !== 200) throw new Error(`DELETE resultset of ${handle}: HTTP ${deleted.status} ${deleted.body.slice(0, 200)}`);
  }
  const growth = pageCountsGrowth(countsBefore, await readCounts());
  cluster.nodes.forEach((n, i) => (part.pageCounts[n.nodeId] = growth[i]));
  checkPageCounts(cluster.nodes.map((n) => n.nodeId), asked, growth);
  const total = (served: string) => growth.reduce((sum, counts) => sum + (counts[served] ?? 0), 0);
  const forwardedPages = asked.ofNonHolder.reduce((a, b) => a + b, 0);
  ctx.log(
    `  ${PAGES_METRIC}: here +${total('here')} (${asked.ofHolder} direct + ${asked.viaBalancer} through the balancer + ${forwardedPages} forwarded), ` +
      `forwarded +${total('forwarded')} (read ahead and used +${total('read ahead, used')}), sent back +${total('redirected')} (${asked.sentBack} of ${asked.viaBalancer} pages through the balancer)`,
  );
  return part;
}

/**
 * Fails the bench unless each way took place as it should: every page asked of a non-holder
 * directly counted there as `forwarded`; every 307 the bench followed counted as `redirected`;
 * and every page, whichever way it came, counted once as `here` (on its holder).
 */
function checkPageCounts(nodeIds: string[], asked: PagesAsked, growth: PageCounts[]): void {
  const problems: string[] = [];
  const total = (served: string) => growth.reduce((sum, counts) => sum + (counts[served] ?? 0), 0);
  nodeIds.forEach((node, i) => {
    const forwarded = growth[i]['forwarded'] ?? 0;
    if (forwarded !== asked.ofNonHolder[i]) problems.push(`${node} was asked ${asked.ofNonHolder[i]} pages of results it did not hold, its ${PAGES_METRIC}{served="forwarded"} grew by ${forwarded}`);
  });
  if (asked.ofNonHolder.every((n) => n === 0)) problems.push('no page was asked of a node that does not hold the result directly');
  if (total('redirected') !== asked.sentBack) problems.push(`the bench followed ${asked.sentBack} redirects, ${PAGES_METRIC}{served="redirected"} grew by ${total('redirected')} in all`);
  if (total('gone') !== 0) problems.push(`${PAGES_METRIC}{served="gone"} grew by ${total('gone')}, expected 0`);
  const hereExpected = asked.ofHolder + asked.viaBalancer + asked.ofNonHolder.reduce((a, b) => a + b, 0);
  if (total('here') !== hereExpected) problems.push(`${hereExpected} pages were asked in all, ${PAGES_METRIC}{served="here"} grew by ${total('here')}`);
  if (problems.length > 0) throw new Error(`the in-memory pages did not go as they should:\n  ${problems.join('\n  ')}`);
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const s = settings(ctx.quick);

  ctx.log('migrating the bench database, creating a warehouse database and a result folder');
  await runMigrations(ctx.databaseUrl, ALL_MIGRATIONS);
  const warehouse = await ctx.createDatabase('wh');
  const resultDir = mkdtempSync(join(tmpdir(), 'quarry-bench-results-'));
  ctx.defer(() => rmSync(resultDir, { recursive: true, force: true }));
  // An empty folder for the DuckDB driver (it is not used: every query names the pg driver).
  const duckdbDir = mkdtempSync(join(tmpdir(), 'quarry-bench-duck-'));
  ctx.defer(() => rmSync(duckdbDir, { recursive: true, force: true }));

  const env = {
    QUARRY_PG_WAREHOUSE_URL: warehouse.readerUrl,
    QUARRY_DUCKDB_WAREHOUSE: duckdbDir,
    QUARRY_RESULT_DIR: resultDir,
    QUARRY_MAX_SESSIONS_PER_USER: '100000',
    // Room for the in-memory result: the cap on one result held in the memory of the node that ran it.
    QUARRY_RESULT_MEMORY_MAX_BYTES: String(512 * 1024 * 1024),
    // A non-holder forwards the request to the holder and streams its answer back (rather than
    // answering 307), which is what is measured. It is the default; set so a QUARRY_RESULT_FETCH
    // in the environment cannot change it.
    QUARRY_RESULT_FETCH: 'forward',
  };
  ctx.log('starting nodes L1, L2, L3 and the balancer');
  const cluster = await startCluster(ctx, { partitions: PARTITIONS, env, balancerSockets: 4 });

  const download = await downloads(ctx, s, cluster, warehouse.url);
  cluster.alive();
  const fetches = await inMemoryFetches(ctx, s, cluster);
  cluster.alive();
  return rows(s, download, fetches);
}

function rows(s: Settings, d: DownloadPart, f: FetchPart): BenchRow[] {
  const ref = (name: string, metric: string, value: number, unit: string): BaselineRef => ({ name, metric, value, unit });
  const big = count(s.downloadRows);
  const copyRate = median(d.copy.map((c) => perSecond(s.downloadRows, c.ms)));
  const copy = ref(`baseline: psql COPY ${big} rows TO STDOUT`, 'spawn → exit', copyRate, 'rows/s');
  const endToEnd = median(d.quarry.map((q) => perSecond(q.rows, q.endToEndMs)));
  const downloadOnly = median(d.quarry.map((q) => perSecond(q.rows, q.downloadMs)));
  const directRate = median(f.direct.map((x) => perSecond(x.rows, x.ms)));
  const forwardedRate = median(f.forwarded.map((x) => perSecond(x.rows, x.ms)));
  const routedRate = median(f.routed.map((x) => perSecond(x.rows, x.ms)));
  const balancedRate = median(f.balanced.map((x) => perSecond(x.rows, x.ms)));
  const fetched = count(s.fetchRows);
  const balanced = ref(`baseline: in-memory ${fetched} rows through the balancer to the holder`, 'all pages', balancedRate, 'rows/s');
  const direct = ref(`baseline: in-memory ${fetched} rows from the holder`, `all pages (aim ≥ ${count(HOLDER_AIM_ROWS_PER_SECOND)} rows/s)`, directRate, 'rows/s');
  const downloadRuns = d.quarry.map((q) => ({ ...q, endToEndRowsPerSecond: perSecond(q.rows, q.endToEndMs), downloadRowsPerSecond: perSecond(q.rows, q.downloadMs) }));
  const fetchRuns = (runs: Fetch[]) =>
    runs.map((x) => ({ node: x.node, rows: x.rows, pages: x.pages, ms: x.ms, rowsPerSecond: perSecond(x.rows, x.ms), pageMs: summarize(x.pageMs), cpuMsPerPage: x.cpuMsPerPage }));
  /** The median CPU per page of one process over the runs. */
  const cpuMedian = (runs: Fetch[], of: 'holder' | 'forwarder' | 'others' | 'balancer' | 'client') => median(runs.map((x) => x.cpuMsPerPage?.[of] ?? Number.NaN));
  const aim = (share: number, of: string) => `aim ≥ ${share.toFixed(2)}x ${of}`;
  const server = (pick: (x: ServerStages) => number) => median(d.quarry.map((q) => (q.server ? pick(q.server) : Number.NaN)));
  return [
    {
      name: NAME,
      metric: `${big}-row CSV via balancer, submit → last byte (${aim(DOWNLOAD_AIM, 'COPY')})`,
      value: endToEnd,
      unit: 'rows/s',
      baseline: copy,
      detail: {
        aim: `Quarry end to end ≥ ${DOWNLOAD_AIM * 100}% of COPY's rows/s (both include executing the query)`,
        runs: downloadRuns,
        executeMsMedian: median(d.quarry.map((q) => q.executeMs)),
        serverMsMedian: { queued: server((x) => x.queuedMs), executing: server((x) => x.executingMs), finishing: server((x) => x.finishingMs) },
        pollIntervalMs: POLL_INTERVAL_MS,
        query: rowsQuery(s.downloadRows),
        conf: 'lens.query.enable.persistent.resultset=true, lens.query.output.write.header=false, lens.query.driver=pg',
      },
    },
    {
      name: NAME,
      metric: `${big}-row CSV via balancer, GET httpresultset alone`,
      value: downloadOnly,
      unit: 'rows/s',
      baseline: copy,
      detail: { firstByteMsMedian: median(d.quarry.map((q) => q.downloadFirstByteMs)), bytesMedian: median(d.quarry.map((q) => q.bytes)) },
    },
    {
      ...copy,
      detail: { runs: d.copy.map((c) => ({ ...c, rowsPerSecond: perSecond(s.downloadRows, c.ms) })), statement: `COPY (${rowsQuery(s.downloadRows)}) TO STDOUT WITH (FORMAT csv)` },
    },
    {
      name: NAME,
      metric: `in-memory ${fetched} rows through the balancer, first page to whichever node it picks (${aim(FORWARD_AIM, 'to the holder')})`,
      value: routedRate,
      unit: 'rows/s',
      baseline: balanced,
      detail: {
        aim: `behind the balancer, a client that asks whichever node pays ≤ ${Math.round((1 - FORWARD_AIM) * 100)}% more than one whose every page goes to the holder: ≥ ${FORWARD_AIM}x`,
        how: 'a fresh result each round; its first page goes where round robin sends it, and a non-holder sends it back to the holder (307, quarry.holder), where the balancer keeps the later pages (ADR 21)',
        results: f.results,
        sentBack: f.routed.map((x) => ({ pages: x.sentBack.pages, of: x.pages, redirectMs: summarize(x.sentBack.redirectMs) })),
        runs: fetchRuns(f.routed),
        cpuMsPerPageMedian: { holder: cpuMedian(f.routed, 'holder'), nonHolders: cpuMedian(f.routed, 'others'), balancer: cpuMedian(f.routed, 'balancer'), client: cpuMedian(f.routed, 'client') },
      },
    },
    {
      ...balanced,
      detail: { how: 'every page marked quarry.holder=<holder>, which the balancer routes on', runs: fetchRuns(f.balanced), cpuMsPerPageMedian: { holder: cpuMedian(f.balanced, 'holder'), balancer: cpuMedian(f.balanced, 'balancer'), client: cpuMedian(f.balanced, 'client') } },
    },
    {
      name: NAME,
      metric: `in-memory ${fetched} rows through the balancer, first page to whichever node it picks (reported: against the holder without a balancer)`,
      value: routedRate,
      unit: 'rows/s',
      baseline: direct,
      detail: { balancerCpuMsPerPageMedian: cpuMedian(f.routed, 'balancer') },
    },
    {
      name: NAME,
      metric: `in-memory ${fetched} rows via a non-holder directly (forwarded: the way without a routing balancer, reported)`,
      value: forwardedRate,
      unit: 'rows/s',
      baseline: direct,
      detail: {
        aim: 'reported: the fallback way (a client talking to the nodes, or a balancer that does not route)',
        results: f.results,
        pageCounts: f.pageCounts,
        fetchSize: FETCH_SIZE,
        runs: fetchRuns(f.forwarded),
        cpuMsPerPageMedian: { holder: cpuMedian(f.forwarded, 'holder'), forwarder: cpuMedian(f.forwarded, 'forwarder'), client: cpuMedian(f.forwarded, 'client') },
        query: rowsQuery(s.fetchRows),
      },
    },
    { ...direct, detail: { results: f.results, runs: fetchRuns(f.direct), cpuMsPerPageMedian: { holder: cpuMedian(f.direct, 'holder'), client: cpuMedian(f.direct, 'client') } } },
  ];
}
