import { spawn, type ChildProcess } from 'node:child_process';
import type { BenchContext } from './context';
import { withDeadline } from './load';

export interface ListeningProcessOptions {
  /** What it is, for error messages ("the balancer"). */
  what: string;
  /** The node script and its arguments. */
  args: string[];
  /** The URL it listens on, read from one line of its output once it is up; undefined for other lines. */
  urlFrom: (line: string) => string | undefined;
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
    const child = spawn(process.execPath, options.args, { cwd: ctx.repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
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
            const url = options.urlFrom(line);
            if (url) resolve(url);
          }
        });
      }
      child.once('exit', (code) => reject(new Error(`${options.what} exited (${code}) while starting:\n${started.output()}`)));
      child.once('error', reject);
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
