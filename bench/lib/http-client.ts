import http from 'node:http';
import { summarize, type LatencySummary } from './stats';

/** One answer, read to its end; `ms` runs from sending the request to the last body byte. */
export interface HttpAnswer {
  status: number;
  body: string;
  ms: number;
}

export interface HttpRequest {
  method?: string;
  path: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Buffer;
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
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo' });
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
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${request.method ?? 'GET'} ${this.baseUrl}${request.path.slice(0, 60)} got no answer in ${REQUEST_TIMEOUT_MS} ms`)));
      req.once('error', reject);
      req.end(request.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A multipart/form-data body of plain text fields, as the Lens clients send them. */
export function multipartForm(fields: Record<string, string>): { body: string; contentType: string } {
  const boundary = `----quarry-bench-${Math.random().toString(16).slice(2)}`;
  const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  return { body: `${parts.join('')}--${boundary}--\r\n`, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** What one closed-loop run achieved. */
export interface LoadRun {
  requests: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  perSecond: number;
  latency: LatencySummary;
  /** CPU time this (client) process used during the run / the run's wall time: 1 = one core busy. */
  clientCpuShare: number;
}

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
 * `durationMs` has passed; requests in flight then finish. requests/s = answers / the time until the
 * last one. A wrong answer or a failed request counts as an error (and is not in the latencies).
 */
export async function closedLoop(options: ClosedLoopOptions): Promise<LoadRun> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const deadline = started + options.durationMs;
  const lane = async () => {
    while (performance.now() < deadline) {
      options.signal?.throwIfAborted();
      try {
        const answer = await options.client.request(options.request(next++));
        if (options.ok(answer)) latencies.push(answer.ms);
        else {
          errors++;
          firstError ??= `HTTP ${answer.status}: ${answer.body.slice(0, 200)}`;
        }
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, lane));
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  return {
    requests: latencies.length,
    errors,
    firstError,
    elapsedMs,
    perSecond: (latencies.length / elapsedMs) * 1000,
    latency: summarize(latencies),
    clientCpuShare: (cpu.user + cpu.system) / 1000 / elapsedMs,
  };
}
