import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, NODE_RUNTIME_FLAGS, TEST_CLUSTER_SECRET } from '@quarry/testing';
import type { BenchContext } from './context';
import { processCpuMs, sleep } from './stats';

export interface QuarryNodeOptions {
  nodeId: string;
  /** Comma list of services, `all` by default (the relay and the node projections run on every node). */
  targets?: string;
  partitions?: number;
  env?: Record<string, string>;
  startTimeoutMs?: number;
  /** The loopback port to listen on; a free one by default. A restart keeps the port (the balancer lists nodes by URL). */
  port?: number;
  /** The loopback gRPC port (QUARRY_GRPC_PORT); a free one by default, kept by a restart. */
  grpcPort?: number;
}

/** How a node process ended. */
export interface NodeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A real node process (the built dist/apps/node), on a loopback port, against the bench database and topics. */
export class QuarryNode {
  private readonly lines: string[] = [];
  private readonly exited: Promise<NodeExit>;
  private stopping?: Promise<void>;

  private constructor(
    readonly nodeId: string,
    readonly url: string,
    private readonly child: ChildProcess,
    /** What it was started with, its port included, for a restart. */
    readonly options: QuarryNodeOptions & { port: number; grpcPort: number },
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream?.on('data', (chunk: Buffer) => {
        const text = partial + chunk.toString('utf8');
        const parts = text.split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) this.keep(line);
      });
    }
  }

  /** `127.0.0.1:<port>` of its gRPC API (where it runs the gateway). */
  get grpcAddress(): string {
    return `127.0.0.1:${this.options.grpcPort}`;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * CPU time (user + system, ms) the node process has used so far, from /proc/<pid>/stat; undefined
   * where there is no /proc (not Linux) or the process is gone. Child processes (the DuckDB host)
   * are not included.
   */
  cpuMs(): number | undefined {
    if (this.child.pid === undefined || !this.running) return undefined;
    return processCpuMs(this.child.pid);
  }

  /** The last lines the node printed (pino JSON), for error messages. */
  output(lines = 40): string {
    return this.lines.slice(-lines).join('\n');
  }

  private keep(line: string): void {
    this.lines.push(line);
    if (this.lines.length > 400) this.lines.splice(0, this.lines.length - 400);
  }

  /** Starts the node, registers its stop with ctx.defer, and waits until GET /health names it. */
  static async start(ctx: BenchContext, options: QuarryNodeOptions): Promise<QuarryNode> {
    const port = options.port ?? (await freePort());
    const grpcPort = options.grpcPort ?? (await freePort());
    // QUARRY_BENCH_NODE_ARGS: extra node flags for every node process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
    const nodeFlags = (process.env.QUARRY_BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
    const args = [...NODE_RUNTIME_FLAGS, ...nodeFlags, ctx.nodeMain, ...(options.targets ? [`--target=${options.targets}`] : [])];
    const child = spawn(process.execPath, args, {
      cwd: ctx.repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        QUARRY_NODE_ID: options.nodeId,
        QUARRY_HTTP_HOST: '127.0.0.1',
        QUARRY_HTTP_PORT: String(port),
        QUARRY_GRPC_PORT: String(grpcPort),
        DATABASE_URL: ctx.databaseUrl,
        KAFKA_BROKERS: ctx.brokers.join(','),
        QUARRY_TOPIC_PREFIX: ctx.topicPrefix,
        QUARRY_KAFKA_PARTITIONS: String(options.partitions ?? 3),
        QUARRY_LOG_LEVEL: 'warn',
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
        // One per bench run, shared by its nodes (as the test kit's).
        QUARRY_CLUSTER_SECRET: TEST_CLUSTER_SECRET,
        ...options.env,
      },
    });
    const node = new QuarryNode(options.nodeId, `http://127.0.0.1:${port}`, child, { ...options, port, grpcPort });
    ctx.defer(() => node.stop());
    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    for (;;) {
      ctx.signal.throwIfAborted();
      if (!node.running) throw new Error(`${options.nodeId} exited while starting:\n${node.output()}`);
      try {
        const res = await fetch(`${node.url}/health`, { signal: AbortSignal.timeout(1000) });
        if (res.ok && ((await res.json()) as { node?: string }).node === options.nodeId) return node;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${options.nodeId} did not answer /health in time:\n${node.output()}`);
      await sleep(100);
    }
  }

  /** How the process ended, once it has. */
  exit(): Promise<NodeExit> {
    return this.exited;
  }

  /** SIGTERM only (the node drains and stops); `exit()` tells when it is gone, `sigkill()` ends it if need be. */
  sigterm(): void {
    if (this.running) this.child.kill('SIGTERM');
  }

  /**
   * SIGKILL, no warning: the node gets no chance to say goodbye. Resolves, once the process is
   * gone, with the wall-clock time (ms since the epoch, with a fraction) just before the signal was sent.
   */
  async sigkill(): Promise<number> {
    if (!this.running) throw new Error(`${this.nodeId} is not running`);
    const killedAt = performance.timeOrigin + performance.now();
    this.child.kill('SIGKILL');
    await this.exited;
    return killedAt;
  }

  /**
   * Starts the node again after it exited: same id, port and settings, a new process and so a new
   * incarnation. Waits until GET /health names it, as `start` does.
   */
  restart(ctx: BenchContext): Promise<QuarryNode> {
    if (this.running) throw new Error(`${this.nodeId} is still running; stop or kill it first`);
    return QuarryNode.start(ctx, this.options);
  }

  /** SIGTERM (the node closes its consumers, relay and pool), SIGKILL after `graceMs`. */
  stop(graceMs = 15_000): Promise<void> {
    return (this.stopping ??= (async () => {
      if (!this.running) return;
      this.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const done = await Promise.race([
        this.exited.then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
      ]);
      clearTimeout(timer);
      if (!done) {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    })());
  }
}
