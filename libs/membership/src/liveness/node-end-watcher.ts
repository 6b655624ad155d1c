import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { parseEvent, topicFor, type OrphanReason } from '@quarry/contracts';
import { KAFKA, LOGGER, NODE_IDENTITY, QUARRY_CONFIG, type NodeIdentity, type QuarryConfig } from '@quarry/platform';
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';

export interface NodeEnded {
  nodeId: string;
  incarnation: string;
  reason: Exclude<OrphanReason, 'drain'>;
}

export type NodeEndHandler = (ended: NodeEnded) => Promise<void>;

/**
 * Tells the services of this node, through Kafka, that a node incarnation ended (NodeDown,
 * NodeLeft), so they act on it at once: take over its queries, say its results are lost. Each
 * node reads every node event (a group of its own, named after the node id, so a restart resumes
 * it), since the node that died may have owned a partition of a shared group. Kafka is the fast
 * path only: every reaction also has a reconciliation in PostgreSQL for what this misses.
 */
@Injectable()
export class NodeEndWatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly handlers: NodeEndHandler[] = [];
  private consumer?: Consumer;

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Registers a reaction; call it before the node is up (a constructor or onModuleInit). */
  onEnded(handler: NodeEndHandler): void {
    this.handlers.push(handler);
  }

  onApplicationBootstrap(): void {
    if (this.handlers.length === 0) return;
    // In the background: joining the group may wait for a dead member of this node id to time
    // out, and the node must not wait for that (the reconciliations cover the meantime).
    void this.consume().catch((error: Error) => this.logger.warn({ err: error.message }, 'node end watcher could not start; the reconciliations still run'));
  }

  private async consume(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: `${this.config.topicPrefix}.node-ends.${this.identity.nodeId}`,
      // The broker's smallest (group.min.session.timeout.ms): a restarted node rejoins sooner.
      sessionTimeout: 6000,
      heartbeatInterval: 1000,
      // A long poll returns as soon as an event arrives; waiting longer only saves idle work.
      maxWaitTimeInMs: 1000,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5000, restartOnFailure: async () => true },
    });
    this.consumer = consumer;
    await consumer.connect();
    // Only what happens from now on: the reconciliations cover the past.
    await consumer.subscribe({ topics: [topicFor('node', this.config.topicPrefix)], fromBeginning: false });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (!message.value) return;
        const event = parseEvent(JSON.parse(message.value.toString('utf8')));
        if (event.type !== 'NodeDown' && event.type !== 'NodeLeft') return;
        const { nodeId, incarnation } = event.payload;
        const reason = event.type === 'NodeLeft' ? 'node-left' : event.payload.cause === 'restarted' ? 'node-restarted' : 'node-down';
        for (const handler of this.handlers) {
          await handler({ nodeId, incarnation, reason }).catch((error: Error) =>
            this.logger.warn({ err: error.message, endedNode: nodeId, incarnation }, 'reacting to a node end failed; the reconciliation will catch up'),
          );
        }
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }
}
