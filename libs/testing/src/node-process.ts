import { randomBytes } from 'node:crypto';
import { OwnedProcess } from './child-process';
import { getJson } from './http';
import { NODE_MAIN, NODE_RUNTIME_FLAGS } from './repo-paths';
import { waitFor } from './wait-for';

export interface NodeOptions {
  nodeId: string;
  port: number;
  /** Its gRPC port (QUARRY_GRPC_PORT); without one the node picks a free port nobody is told of. */
  grpcPort?: number;
  databaseUrl: string;
  kafkaBrokers: string[];
  topicPrefix: string;
  targets?: string;
  env?: Record<string, string>;
}

/**
 * The cluster secret of every node this test process starts, made per run as `npm start` makes
 * its own: nodes of one test talk to each other, and nothing outside knows it.
 */
export const TEST_CLUSTER_SECRET = randomBytes(32).toString('base64url');

/** A real node process (dist/apps/node), as `npm start` runs it. */
export class NodeProcess {
  readonly process: OwnedProcess;
  readonly url: string;
  /** `127.0.0.1:<grpcPort>`, where it was given one. */
  readonly grpcAddress?: string;

  private constructor(readonly options: NodeOptions) {
    const args = [...NODE_RUNTIME_FLAGS, NODE_MAIN, ...(options.targets ? [`--target=${options.targets}`] : [])];
    this.url = `http://127.0.0.1:${options.port}`;
    if (options.grpcPort !== undefined) this.grpcAddress = `127.0.0.1:${options.grpcPort}`;
    this.process = new OwnedProcess(options.nodeId, process.execPath, args, {
      ...process.env,
      QUARRY_NODE_ID: options.nodeId,
      QUARRY_HTTP_PORT: String(options.port),
      QUARRY_GRPC_PORT: String(options.grpcPort ?? 0),
      DATABASE_URL: options.databaseUrl,
      KAFKA_BROKERS: options.kafkaBrokers.join(','),
      QUARRY_TOPIC_PREFIX: options.topicPrefix,
      QUARRY_KAFKA_PARTITIONS: '3',
      QUARRY_LOG_LEVEL: 'info',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      QUARRY_CLUSTER_SECRET: TEST_CLUSTER_SECRET,
      ...options.env,
    });
  }

  /** Starts the process without waiting for it (a test of a node that must refuse to start). */
  static launch(options: NodeOptions): NodeProcess {
    return new NodeProcess(options);
  }

  /** Starts the process and waits until its /health names it. */
  static async start(options: NodeOptions, timeoutMs = 60_000): Promise<NodeProcess> {
    const node = new NodeProcess(options);
    let exited = false;
    try {
      await waitFor(
        `${options.nodeId} to answer /health`,
        async () => {
          // An exit ends the wait at once instead of at the deadline.
          if (!node.process.running) return (exited = true);
          const answer = await getJson<{ node: string }>(`${node.url}/health`);
          return answer.status === 200 && answer.body.node === options.nodeId;
        },
        { timeoutMs, intervalMs: 100 },
      );
      if (exited) throw new Error(`${options.nodeId} exited before it answered /health`);
    } catch (error) {
      node.process.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n--- ${options.nodeId} output ---\n${node.process.output()}`);
    }
    return node;
  }

  sigkill(): Promise<unknown> {
    this.process.kill('SIGKILL');
    return this.process.exited;
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}
