import { startBalancer, type BalancerKind, type StartedBalancer } from './balancer';
import type { OwnedProcess } from './child-process';
import { freePort } from './free-port';
import { getJson } from './http';
import { NodeProcess, type NodeOptions } from './node-process';
import { createTestDatabase, type TestDatabase } from './test-database';
import { uniqueTopicPrefix } from './test-topics';
import { testEnv } from './test-env';
import { waitFor } from './wait-for';

export interface ClusterOptions extends Omit<NodeOptions, 'nodeId' | 'port' | 'grpcPort'> {
  size?: number;
  /** Targets of particular nodes by id (e.g. only L1 runs `driver`); the others get `targets`. */
  nodeTargets?: Record<string, string>;
  /** Settings of particular nodes, given their id and port (e.g. an advertised URL through a proxy). */
  nodeEnv?: (nodeId: string, port: number) => Promise<Record<string, string>>;
  /** Flags of the balancer beyond its backends (its defaults are what `npm start` uses). */
  balancerArgs?: string[];
  /** The nodes clients reach through the balancer (the front door, e.g. gateway-only nodes); all by default. */
  balanced?: string[];
  /**
   * Whether the balancer routes result pages to their holder (ADR 21: backends named by node id,
   * as `npm start` names them); true by default. False: plain backends, and nodes forward pages.
   */
  routeResults?: boolean;
}

/** N real node processes (L1, L2, ...) behind the round-robin balancer QUARRY_BALANCER chooses, itself a process. */
export class Cluster {
  private constructor(
    readonly nodes: NodeProcess[],
    readonly balancer: OwnedProcess,
    readonly balancerUrl: string,
    readonly balancerKind: BalancerKind,
  ) {}

  static async start(options: ClusterOptions): Promise<Cluster> {
    const size = options.size ?? 3;
    const nodes: NodeProcess[] = [];
    let balancer: StartedBalancer | undefined;
    try {
      for (let i = 1; i <= size; i++) {
        const nodeId = `L${i}`;
        const port = await freePort();
        const grpcPort = await freePort();
        const env = { ...options.env, ...(await options.nodeEnv?.(nodeId, port)) };
        nodes.push(await NodeProcess.start({ ...options, nodeId, targets: options.nodeTargets?.[nodeId] ?? options.targets, port, grpcPort, env }));
      }
      const backends = nodes.filter((n) => !options.balanced || options.balanced.includes(n.options.nodeId));
      balancer = await startBalancer({ backends: backends.map((n) => (options.routeResults === false ? n.url : `${n.options.nodeId}=${n.url}`)), args: options.balancerArgs });
      const url = balancer.url;
      await waitFor(`the ${balancer.kind} balancer to answer`, async () => (await getJson(`${url}/health`)).status === 200, { timeoutMs: 15_000 });
      return new Cluster(nodes, balancer.process, balancer.url, balancer.kind);
    } catch (error) {
      if (balancer) (error as Error).message += `\nthe balancer's output:\n${balancer.process.output()}`;
      await balancer?.process.stop();
      await Promise.all(nodes.map((n) => n.stop()));
      throw error;
    }
  }

  node(id: string): NodeProcess {
    const node = this.nodes.find((n) => n.options.nodeId === id);
    if (!node) throw new Error(`no node ${id} in this cluster`);
    return node;
  }

  /** Starts a node again (after a SIGKILL or a stop) with the same id, port and settings: a new incarnation. */
  async restart(id: string): Promise<NodeProcess> {
    const index = this.nodes.indexOf(this.node(id));
    await this.nodes[index].stop();
    this.nodes[index] = await NodeProcess.start(this.nodes[index].options);
    return this.nodes[index];
  }

  async stop(): Promise<void> {
    await this.balancer.stop();
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}

/** A cluster on a database and topic prefix of its own; `stop` ends the nodes and drops the database. */
export interface TestCluster {
  db: TestDatabase;
  cluster: Cluster;
  stop(): Promise<void>;
}

/** On the shared broker unless `kafkaBrokers` names another (a test's PrivateBroker). */
export async function startTestCluster(options: Omit<ClusterOptions, 'databaseUrl' | 'kafkaBrokers' | 'topicPrefix'> & { kafkaBrokers?: string[] } = {}): Promise<TestCluster> {
  const db = await createTestDatabase();
  const cluster = await Cluster.start({ ...options, databaseUrl: db.url, kafkaBrokers: options.kafkaBrokers ?? testEnv().kafkaBrokers, topicPrefix: uniqueTopicPrefix() }).catch(async (error: Error) => {
    await db.drop();
    throw error;
  });
  return {
    db,
    cluster,
    async stop() {
      await cluster.stop();
      await db.drop();
    },
  };
}
