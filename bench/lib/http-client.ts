import http from 'node:http';
import { PEER_IDLE_MS } from '@quarry/platform';
import { closedLoopOf, type LoadRun } from './stats';

/** One answer, read to its end; `ms` runs from sending the request to the last body byte. */
export interface HttpAnswer {
  status: number;
  body: string;
  ms: number;
  /** Where a redirect points (its Location header), for a caller that follows it. */
  location?: string;
  /** requestFollowing: the time of the 307 it followed (included in `ms`). */
  redirectMs?: number;
}

export interface HttpRequest {
  method?: string;
  path: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Buffer;
  /** No answer within this long fails the request (default 10 s). */
  timeoutMs?: number;
}

const REQUEST_TIMEOUT_MS = 10_000;

/**
 * A node:http client with keep-alive sockets to one loopback server, so neither the latency
 * samples nor the throughput runs pay for connecting (and the client stays cheap next to fetch).
 */
export class KeepAliveClient {
  private readonly agent: http.Agent;
  private readonly hostname: string;
  private readonly port: number;

  constructor(
    readonly baseUrl: string,
    maxSockets: number,
  ) {
    const url = new URL(baseUrl);
    this.hostname = url.hostname;
    this.port = Number(url.port);
    // An idle connection is closed before a node's server would close it (as nodes do between
    // themselves): a request sent on a connection the server is closing at that moment fails
    // with "socket hang up". A request in flight has its own timeout (timeoutMs).
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo', timeout: PEER_IDLE_MS });
  }

  /**
   * `request`, following a relative 307 once, as a Lens client does on GET (a routing balancer
   * sends a result's page back to its holder, ADR 21); `ms` counts both.
   */
  async requestFollowing(request: HttpRequest): Promise<HttpAnswer> {
    const first = await this.request(request);
    if (first.status !== 307 || !first.location?.startsWith('/')) return first;
    const second = await this.request({ ...request, path: first.location });
    return { ...second, ms: first.ms + second.ms, redirectMs: first.ms };
  }

  request(request: HttpRequest): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const headers = { ...request.headers };
      if (request.body !== undefined) headers['content-length'] = Buffer.byteLength(request.body);
      const req = http.request({ agent: this.agent, hostname: this.hostname, port: this.port, method: request.method ?? 'GET', path: request.path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', reject);
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0, location: res.headers.location }));
      });
      const timeoutMs = request.timeoutMs ?? REQUEST_TIMEOUT_MS;
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${request.method ?? 'GET'} ${this.baseUrl}${request.path.slice(0, 60)} got no answer in ${timeoutMs} ms`)));
      req.once('error', reject);
      req.end(request.body);
    });
  }

  /**
   * Sends `request` and hands each body chunk to `onChunk` as it arrives, keeping none of it: for
   * answers too big to hold (a result download). Times run from sending the request; the status
   * and headers are known before the first chunk.
   */
  stream(request: HttpRequest, onChunk: (chunk: Buffer) => void): Promise<StreamedAnswer> {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const headers = { ...request.headers };
      if (request.body !== undefined) headers['content-length'] = Buffer.byteLength(request.body);
      const req = http.request({ agent: this.agent, hostname: this.hostname, port: this.port, method: request.method ?? 'GET', path: request.path, headers }, (res) => {
        let bytes = 0;
        let firstByteMs = Number.NaN;
        res.on('data', (chunk: Buffer) => {
          if (bytes === 0) firstByteMs = performance.now() - t0;
          bytes += chunk.length;
          try {
            onChunk(chunk);
          } catch (error) {
            res.destroy(error as Error);
          }
        });
        res.once('error', reject);
        res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes, firstByteMs, ms: performance.now() - t0 }));
      });
      const timeoutMs = request.timeoutMs ?? REQUEST_TIMEOUT_MS;
      // An idle socket for this long fails it (a slow but moving download does not).
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${request.method ?? 'GET'} ${this.baseUrl}${request.path.slice(0, 60)} went quiet for ${timeoutMs} ms`)));
      req.once('error', reject);
      req.end(request.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A streamed answer: its body went to the caller chunk by chunk; `bytes` counts it. */
export interface StreamedAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  bytes: number;
  /** From sending the request to the first body byte (NaN for an empty body). */
  firstByteMs: number;
  /** From sending the request to the last body byte. */
  ms: number;
}

/** Newline bytes (\n) in a chunk: lines of a CSV or COPY stream counted as they arrive, never decoded. */
export function countNewlines(chunk: Buffer): number {
  let lines = 0;
  for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  return lines;
}

/** A multipart/form-data body of plain text fields, as the Lens clients send them. */
export function multipartForm(fields: Record<string, string>): { body: string; contentType: string } {
  const boundary = `----quarry-bench-${Math.random().toString(16).slice(2)}`;
  const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  return { body: `${parts.join('')}--${boundary}--\r\n`, contentType: `multipart/form-data; boundary=${boundary}` };
}

export type { LoadRun } from './stats';

export interface ClosedLoopOptions {
  client: KeepAliveClient;
  concurrency: number;
  durationMs: number;
  /** The i-th request of the run (i counts across all lanes). */
  request: (i: number) => HttpRequest;
  /** True when the answer is what the request should get (checked on every answer). */
  ok: (answer: HttpAnswer) => boolean;
  signal?: AbortSignal;
}

/**
 * `concurrency` lanes, each sending its next request as soon as the previous answer is read, until
 * `durationMs` has passed; requests in flight then finish (see closedLoopOf). requests/s = answers /
 * the time until the last one. A wrong answer or a failed request counts as an error (and is not in
 * the latencies).
 */
export function closedLoop(options: ClosedLoopOptions): Promise<LoadRun> {
  return closedLoopOf({
    concurrency: options.concurrency,
    durationMs: options.durationMs,
    signal: options.signal,
    op: async (i) => {
      const answer = await options.client.request(options.request(i));
      return options.ok(answer) ? { ok: true, ms: answer.ms } : { ok: false, ms: answer.ms, error: `HTTP ${answer.status}: ${answer.body.slice(0, 200)}` };
    },
  });
}
