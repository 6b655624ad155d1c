import { join } from 'node:path';
import type { BenchContext } from './context';
import { ListeningProcess } from './listening-process';

/** tools/stack/balancer.mjs as its own process: strict round robin over `backends`, on a free loopback port. */
export type BalancerProcess = ListeningProcess;

export const BalancerProcess = {
  start(ctx: BenchContext, backends: string[]): Promise<BalancerProcess> {
    return ListeningProcess.start(ctx, {
      what: 'the balancer',
      args: [join(ctx.repoRoot, 'tools/stack/balancer.mjs'), '--port', '0', '--host', '127.0.0.1', '--backends', backends.join(',')],
      urlFrom: (line) => /^Balancing (http:\/\/\S+) across/.exec(line)?.[1],
    });
  },
};
