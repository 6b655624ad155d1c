import type { Cluster, NodeProcess, OwnedProcess } from '@quarry/testing';
import type { ExitRecord } from './verdict';

/** Why the harness expects a node process to end: it signaled it, or it should stop itself (exit 75). */
export type ExpectedExit = 'signaled' | 'declared-down';

/**
 * Watches the cluster's node processes as a supervisor would (tools/stack/start-cluster.mjs):
 * every exit is recorded, planned when the harness asked for it (a SIGKILL or SIGTERM it sent;
 * exit 75 of a node it SIGSTOPped until the cluster declared it down). A node that ends any other
 * way is unplanned and is started again at once, so the run goes on.
 */
export class NodeSupervisor {
  readonly exits: (ExitRecord & { at: number })[] = [];
  private readonly expected = new Map<OwnedProcess, ExpectedExit>();
  /** One start at a time per node id. */
  private readonly starting = new Map<string, Promise<NodeProcess>>();
  private closed = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly log: (line: string) => void,
  ) {
    cluster.nodes.forEach((node) => this.watch(node));
  }

  /** Call before signaling the node's current process. */
  expectExit(nodeId: string, why: ExpectedExit): void {
    this.expected.set(this.cluster.node(nodeId).process, why);
  }

  /** The node was not declared down after all: an exit from now on is unplanned again. */
  unexpectExit(nodeId: string): void {
    this.expected.delete(this.cluster.node(nodeId).process);
  }

  /** Starts the node again (same id, port, settings: a new incarnation) unless it runs already. */
  startAgain(nodeId: string): Promise<NodeProcess> {
    const running = this.starting.get(nodeId);
    if (running) return running;
    const current = this.cluster.node(nodeId);
    if (current.process.running) return Promise.resolve(current);
    const start = this.cluster
      .restart(nodeId)
      .then((node) => {
        this.watch(node);
        return node;
      })
      .finally(() => this.starting.delete(nodeId));
    this.starting.set(nodeId, start);
    return start;
  }

  /** From now on every exit is planned (the harness stops the cluster). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.starting.values());
  }

  private watch(node: NodeProcess): void {
    const nodeId = node.options.nodeId;
    void node.process.exited.then(({ code, signal }) => {
      const why = this.expected.get(node.process);
      const planned = this.closed || why === 'signaled' || (why === 'declared-down' && code === 75);
      this.exits.push({ nodeId, code, signal, planned, at: Date.now() });
      if (planned) return;
      this.log(`${nodeId} exited unplanned (${signal ?? `code ${code}`}); starting it again. Its last lines:\n${node.process.output(15)}`);
      this.startAgain(nodeId).catch((error: Error) => this.log(`${nodeId} did not start again: ${error.message}`));
    });
  }
}
