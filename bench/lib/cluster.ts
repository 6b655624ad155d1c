import { BalancerProcess } from './balancer-process';
import type { BenchContext } from './context';
import { KeepAliveClient } from './http-client';
import { QuarryNode } from './quarry-node';
import { busyShare, machineCpu, processCpuMs, sleep } from './stats';

export interface ClusterOptions {
  /** One node process per id (L1, L2, L3 by default), all services. */
  nodeIds?: string[];
  partitions?: number;
  /** Extra environment for every node. */
  env?: Record<string, string>;
  /** Keep-alive sockets of each direct client, and of the client through the balancer. */
  directSockets?: number;
  balancerSockets: number;
  /** A GET that answers 200 once a node serves the API the bench uses. */
  readyPath?: string;
}

/** Real node processes, the balancer QUARRY_BALANCER chooses in front of them (`balancer.kind`), and keep-alive clients to each. */
export interface BenchCluster {
  nodes: QuarryNode[];
  balancer: BalancerProcess;
  /** One client per node, straight to it (same order as `nodes`). */
  direct: KeepAliveClient[];
  viaBalancer: KeepAliveClient;
  /** Throws, with its last output, if a node or the balancer has exited. */
  alive(): void;
  /** Runs `work`, and tells how busy the machine (all cores), each node process and the balancer were meanwhile. */
  cpuDuring<T>(work: () => Promise<T>): Promise<{ result: T; cpu: CpuShares; elapsedMs: number }>;
}

/** Shares of CPU over a stretch of wall time: machine = all cores (1 = every core busy), nodes = cores' worth each (1 = one core). */
export interface CpuShares {
  machineBusyShare: number;
  nodeCpuShare: Record<string, number>;
  /** The balancer process, in cores' worth (NaN without /proc). */
  balancerCpuShare: number;
  /** Processes started on the whole machine meanwhile (e.g. PostgreSQL backends for new connections); NaN without /proc. */
  machineForks: number;
}

/**
 * Starts the nodes (in parallel) and the balancer, registering their stops and the clients' close
 * with ctx.defer, then waits until every node answers `readyPath` with 200. The bench database must
 * be migrated first.
 */
export async function startCluster(ctx: BenchContext, options: ClusterOptions): Promise<BenchCluster> {
  const nodeIds = options.nodeIds ?? ['L1', 'L2', 'L3'];
  const nodes = await Promise.all(nodeIds.map((nodeId) => QuarryNode.start(ctx, { nodeId, partitions: options.partitions ?? 3, env: options.env })));
  const balancer = await BalancerProcess.start(ctx, nodes.map((n) => `${n.nodeId}=${n.url}`));
  ctx.log(`balancer: ${balancer.kind} on ${balancer.url} (QUARRY_BALANCER=${process.env.QUARRY_BALANCER || 'auto'})`);
  const direct = nodes.map((n) => new KeepAliveClient(n.url, options.directSockets ?? 4));
  const viaBalancer = new KeepAliveClient(balancer.url, options.balancerSockets);
  ctx.defer(() => [...direct, viaBalancer].forEach((c) => c.close()));

  const alive = () => {
    for (const node of nodes) if (!node.running) throw new Error(`node ${node.nodeId} exited during the bench:\n${node.output()}`);
    if (!balancer.running) throw new Error(`the balancer exited during the bench:\n${balancer.output()}`);
  };
  const readyPath = options.readyPath ?? '/lensapi/session';
  for (const client of direct) {
    const deadline = Date.now() + 30_000;
    while ((await client.request({ path: readyPath }).catch(() => undefined))?.status !== 200) {
      ctx.signal.throwIfAborted();
      alive();
      if (Date.now() > deadline) throw new Error(`${client.baseUrl} does not answer ${readyPath}`);
      await sleep(100);
    }
  }
  const balancerCpuMs = () => (balancer.pid === undefined ? Number.NaN : (processCpuMs(balancer.pid) ?? Number.NaN));
  const cpuDuring = async <T>(work: () => Promise<T>) => {
    const machine0 = machineCpu();
    const nodes0 = nodes.map((n) => n.cpuMs());
    const balancer0 = balancerCpuMs();
    const t0 = performance.now();
    const result = await work();
    const elapsedMs = performance.now() - t0;
    const nodeCpuShare: Record<string, number> = {};
    nodes.forEach((n, i) => {
      const before = nodes0[i];
      const after = n.cpuMs();
      if (before !== undefined && after !== undefined) nodeCpuShare[n.nodeId] = (after - before) / elapsedMs;
    });
    const balancerCpuShare = (balancerCpuMs() - balancer0) / elapsedMs;
    const machine1 = machineCpu();
    return { result, cpu: { machineBusyShare: busyShare(machine0, machine1), nodeCpuShare, balancerCpuShare, machineForks: machine1.forks - machine0.forks }, elapsedMs };
  };
  return { nodes, balancer, direct, viaBalancer, alive, cpuDuring };
}
