import { execFile, execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { OwnedProcess } from './child-process';
import { BALANCER_COMMAND_SCRIPT } from './repo-paths';

export type BalancerKind = 'node' | 'haproxy';

export interface BalancerOptions {
  /** `http://host:port`, or `<node id>=http://host:port` for a node result pages can be routed to (ADR 21). */
  backends: string[];
  /** Flags of tools/stack/balancer.mjs beyond its backends (HAProxy's configuration takes them too). */
  args?: string[];
  /** The choice: `auto` (HAProxy when installed), `node` or `haproxy`; default QUARRY_BALANCER. */
  kind?: BalancerKind | 'auto';
}

export interface StartedBalancer {
  kind: BalancerKind;
  url: string;
  port: number;
  process: OwnedProcess;
}

/**
 * The balancer `npm start` would run (tools/stack/balancer-command.mjs decides and builds the
 * command), as a process of the test's own on a free loopback port. Not waited for: the caller
 * knows what its backends answer.
 */
export async function startBalancer(options: BalancerOptions): Promise<StartedBalancer> {
  const env = options.kind ? { ...process.env, QUARRY_BALANCER: options.kind } : process.env;
  const { stdout } = await promisify(execFile)(process.execPath, [BALANCER_COMMAND_SCRIPT, '--port', '0', '--backends', options.backends.join(','), ...(options.args ?? [])], { env });
  const command = JSON.parse(stdout) as { kind: BalancerKind; command: string; args: string[]; url: string; configFile?: string };
  const balancer = new OwnedProcess(`balancer (${command.kind})`, command.command, command.args, process.env);
  const { configFile } = command;
  if (configFile) void balancer.exited.then(() => rmSync(configFile, { force: true }));
  return { kind: command.kind, url: command.url, port: Number(new URL(command.url).port), process: balancer };
}

/** What `kind` (default QUARRY_BALANCER, else auto) resolves to on this machine; throws when it cannot be had. */
export function balancerKindHere(kind?: BalancerKind | 'auto'): BalancerKind {
  const env = kind ? { ...process.env, QUARRY_BALANCER: kind } : process.env;
  return (JSON.parse(execFileSync(process.execPath, [BALANCER_COMMAND_SCRIPT, '--which'], { env, encoding: 'utf8' })) as { kind: BalancerKind }).kind;
}
