import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BenchContext } from './context';
import { withDeadline } from './load';
import { sleep } from './stats';

export type BalancerKind = 'node' | 'haproxy';

/** What tools/stack/balancer-command.mjs prints: the command that runs the balancer in the foreground. */
interface BalancerCommand {
  kind: BalancerKind;
  command: string;
  args: string[];
  url: string;
  configFile?: string;
}

/**
 * The balancer `npm start` runs (QUARRY_BALANCER: HAProxy when installed, else
 * tools/stack/balancer.mjs), or the kind asked for, as a process of its own in front of `backends`
 * (strict round robin) on a free loopback port. Its stop is registered with ctx.defer.
 */
export class BalancerProcess {
  private readonly lines: string[] = [];
  private readonly exited: Promise<void>;
  private stopping?: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly kind: BalancerKind,
    readonly url: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines it printed (failed backends, on stderr). */
  output(lines = 20): string {
    return this.lines.slice(-lines).join('\n');
  }

  /** What `kind` (QUARRY_BALANCER when not given; `auto`: HAProxy when installed) is on this machine. */
  static async kindHere(ctx: BenchContext, kind?: BalancerKind | 'auto'): Promise<BalancerKind> {
    const { stdout } = await promisify(execFile)(process.execPath, [join(ctx.repoRoot, 'tools/stack/balancer-command.mjs'), '--which'], { env: withChoice(kind) });
    return (JSON.parse(stdout) as { kind: BalancerKind }).kind;
  }

  static async start(ctx: BenchContext, backends: string[], kind?: BalancerKind): Promise<BalancerProcess> {
    const script = join(ctx.repoRoot, 'tools/stack/balancer-command.mjs');
    const { stdout } = await promisify(execFile)(process.execPath, [script, '--port', '0', '--host', '127.0.0.1', '--backends', backends.join(',')], { env: withChoice(kind) });
    const command = JSON.parse(stdout) as BalancerCommand;
    const child = spawn(command.command, command.args, { cwd: ctx.repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const balancer = new BalancerProcess(child, command.kind, command.url);
    ctx.defer(() => balancer.stop());
    const { configFile } = command;
    if (configFile) void balancer.exited.then(() => rmSync(configFile, { force: true }));
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream?.on('data', (chunk: Buffer) => {
        const parts = (partial + chunk.toString('utf8')).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) {
          balancer.lines.push(line);
          if (balancer.lines.length > 200) balancer.lines.shift();
        }
      });
    }
    const failed = new Promise<never>((_, reject) => {
      child.once('exit', (code) => reject(new Error(`the ${command.kind} balancer exited (${code}) while starting:\n${balancer.output()}`)));
      child.once('error', reject);
    });
    await withDeadline(Promise.race([balancer.listening(ctx.signal), failed]), 10_000, `the ${command.kind} balancer starting`);
    return balancer;
  }

  /** SIGTERM (both close their sockets at once), SIGKILL after `graceMs`. */
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

  /** Resolves once its port accepts connections. */
  private async listening(signal: AbortSignal): Promise<void> {
    const { hostname, port } = new URL(this.url);
    const accepts = () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(Number(port), hostname);
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
    while (this.running && !(await accepts())) {
      signal.throwIfAborted();
      await sleep(50);
    }
  }
}

function withChoice(kind: BalancerKind | 'auto' | undefined): NodeJS.ProcessEnv {
  return kind ? { ...process.env, QUARRY_BALANCER: kind } : process.env;
}
