import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BenchContext } from './context';
import { ListeningProcess } from './listening-process';

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
export type BalancerProcess = ListeningProcess & { kind: BalancerKind };

export const BalancerProcess = {
  /** What `kind` (QUARRY_BALANCER when not given; `auto`: HAProxy when installed) is on this machine. */
  async kindHere(ctx: BenchContext, kind?: BalancerKind | 'auto'): Promise<BalancerKind> {
    const { stdout } = await promisify(execFile)(process.execPath, [join(ctx.repoRoot, 'tools/stack/balancer-command.mjs'), '--which'], { env: withChoice(kind) });
    return (JSON.parse(stdout) as { kind: BalancerKind }).kind;
  },

  /** `backends`: `http://host:port`, or `<node id>=http://host:port` to route result pages to that node (ADR 21). */
  async start(ctx: BenchContext, backends: string[], kind?: BalancerKind): Promise<BalancerProcess> {
    const script = join(ctx.repoRoot, 'tools/stack/balancer-command.mjs');
    const { stdout } = await promisify(execFile)(process.execPath, [script, '--port', '0', '--host', '127.0.0.1', '--backends', backends.join(',')], { env: withChoice(kind) });
    const command = JSON.parse(stdout) as BalancerCommand;
    const { configFile } = command;
    if (configFile) ctx.defer(() => rmSync(configFile, { force: true }));
    const balancer = await ListeningProcess.start(ctx, { what: `the ${command.kind} balancer`, command: command.command, args: command.args, url: command.url });
    return Object.assign(balancer, { kind: command.kind });
  },
};

function withChoice(kind: BalancerKind | 'auto' | undefined): NodeJS.ProcessEnv {
  return kind ? { ...process.env, QUARRY_BALANCER: kind } : process.env;
}
