import { Inject, Injectable } from '@nestjs/common';
import { parseEvent, type OrphanReason } from '@quarry/contracts';
import { NodeEventFeed } from '@quarry/eventstore';
import { LOGGER } from '@quarry/platform';
import type { Logger } from 'pino';

export interface NodeEnded {
  nodeId: string;
  incarnation: string;
  reason: Exclude<OrphanReason, 'drain'>;
}

export type NodeEndHandler = (ended: NodeEnded) => Promise<void>;

/**
 * Tells the services of this node, through Kafka, that a node incarnation ended (NodeDown,
 * NodeLeft), so they act on it at once: take over its queries, say its results are lost. It
 * listens on the node's event feed (NodeEventFeed: a group named after the node id, so a restart
 * resumes it), since the node that died may have owned a partition of a shared group. Kafka is the
 * fast path only: every reaction also has a reconciliation in PostgreSQL for what this misses.
 */
@Injectable()
export class NodeEndWatcher {
  private readonly handlers: NodeEndHandler[] = [];

  constructor(
    private readonly feed: NodeEventFeed,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Registers a reaction; call it before the node is up (a constructor or onModuleInit). */
  onEnded(handler: NodeEndHandler): void {
    if (this.handlers.length === 0) this.feed.on('node', (event) => this.react(event));
    this.handlers.push(handler);
  }

  private async react(json: unknown): Promise<void> {
    const event = parseEvent(json);
    if (event.type !== 'NodeDown' && event.type !== 'NodeLeft') return;
    const { nodeId, incarnation } = event.payload;
    const reason = event.type === 'NodeLeft' ? 'node-left' : event.payload.cause === 'restarted' ? 'node-restarted' : 'node-down';
    for (const handler of this.handlers) {
      await handler({ nodeId, incarnation, reason }).catch((error: Error) =>
        this.logger.warn({ err: error.message, endedNode: nodeId, incarnation }, 'reacting to a node end failed; the reconciliation will catch up'),
      );
    }
  }
}
