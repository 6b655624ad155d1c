import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import type { BenchContext } from './context';
import { withDeadline } from './load';
import { sleep } from './stats';

export interface ListeningProcessOptions {
  /** What it is, for error messages ("the balancer"). */
  what: string;
  /** The program (this Node by default: `args` then start with a script of the repository). */
  command?: string;
  args: string[];
  /**
   * Where it listens: read from one line of its output once it is up (`urlFrom` answers undefined
   * for other lines), or known beforehand (`url`: up once its port accepts connections).
   */
  urlFrom?: (line: string) => string | undefined;
  url?: string;
  startTimeoutMs?: number;
}

/**
 * A node script of the repository as its own process (the balancer, a bench server), on a free
 * loopback port it picks itself and prints. Its stop is registered with ctx.defer.
 */
export class ListeningProcess {
  private readonly lines: string[] = [];
  private readonly exited: Promise<void>;
  private stopping?: Promise<void>;
  private listeningUrl = '';

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get url(): string {
    return this.listeningUrl;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines it printed. */
  output(lines = 20): string {
    return this.lines.slice(-lines).join('\n');
  }

  static async start(ctx: BenchContext, options: ListeningProcessOptions): Promise<ListeningProcess> {
    const child = spawn(options.command ?? process.execPath, options.args, { cwd: ctx.repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const started = new ListeningProcess(child);
    ctx.defer(() => started.stop());
    const listening = new Promise<string>((resolve, reject) => {
      for (const stream of [child.stdout, child.stderr]) {
        let partial = '';
        stream?.on('data', (chunk: Buffer) => {
          const parts = (partial + chunk.toString('utf8')).split('\n');
          partial = parts.pop() ?? '';
          for (const line of parts) {
            started.lines.push(line);
            if (started.lines.length > 200) started.lines.shift();
            const url = options.urlFrom?.(line);
            if (url) resolve(url);
          }
        });
      }
      child.once('exit', (code) => reject(new Error(`${options.what} exited (${code}) while starting:\n${started.output()}`)));
      child.once('error', reject);
      if (options.url) void accepting(options.url, () => started.running, ctx.signal).then(() => resolve(options.url!), reject);
    });
    started.listeningUrl = await withDeadline(listening, options.startTimeoutMs ?? 10_000, `${options.what} starting`);
    return started;
  }

  /** SIGTERM (it closes its server and sockets), SIGKILL after `graceMs`. */
  stop(graceMs = 5_000): Promise<void> {
    return (this.stopping ??= (async () => {
      if (!this.running) return;
      this.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const done = await Promise.race([this.exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)))]);
      clearTimeout(timer);
      if (!done) {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    })());
  }
}

/** Resolves once the port of `url` accepts connections (or the process is gone: its exit rejects the start). */
async function accepting(url: string, running: () => boolean, signal: AbortSignal): Promise<void> {
  const { hostname, port } = new URL(url);
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect(Number(port), hostname);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  while (running() && !(await accepts())) {
    signal.throwIfAborted();
    await sleep(50);
  }
}
