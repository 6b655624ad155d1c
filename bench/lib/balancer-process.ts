import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { BenchContext } from './context';
import { withDeadline } from './load';

/**
 * tools/stack/balancer.mjs as its own process (strict round robin over `backends`), on a free
 * loopback port it picks itself. Its stop is registered with ctx.defer.
 */
export class BalancerProcess {
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

  /** The last lines it printed (it logs failed backends to stderr). */
  output(lines = 20): string {
    return this.lines.slice(-lines).join('\n');
  }

  static async start(ctx: BenchContext, backends: string[]): Promise<BalancerProcess> {
    const script = join(ctx.repoRoot, 'tools/stack/balancer.mjs');
    const child = spawn(process.execPath, [script, '--port', '0', '--host', '127.0.0.1', '--backends', backends.join(',')], {
      cwd: ctx.repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const balancer = new BalancerProcess(child);
    ctx.defer(() => balancer.stop());
    const listening = new Promise<string>((resolve, reject) => {
      for (const stream of [child.stdout, child.stderr]) {
        let partial = '';
        stream?.on('data', (chunk: Buffer) => {
          const parts = (partial + chunk.toString('utf8')).split('\n');
          partial = parts.pop() ?? '';
          for (const line of parts) {
            balancer.lines.push(line);
            if (balancer.lines.length > 200) balancer.lines.shift();
            const url = /^Balancing (http:\/\/\S+) across/.exec(line)?.[1];
            if (url) resolve(url);
          }
        });
      }
      child.once('exit', (code) => reject(new Error(`the balancer exited (${code}) while starting:\n${balancer.output()}`)));
      child.once('error', reject);
    });
    balancer.listeningUrl = await withDeadline(listening, 10_000, 'the balancer starting');
    return balancer;
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
