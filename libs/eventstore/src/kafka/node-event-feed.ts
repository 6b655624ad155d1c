import { topicFor, type StreamFamily } from '@quarry/contracts';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { KAFKA_COMMIT_MS, LASTING_CONSUMER } from './kafka';

/** Gets each event (its JSON, parsed) of the family it was registered for. */
export type NodeEventHandler = (event: unknown) => Promise<void> | void;

/**
 * The one Kafka consumer of a node for the events every node must hear for itself (a node's end,
 * a change to a session it may cache), instead of a consumer (and an idle poll) per listener.
 * Its group is named after the node id (`<prefix>.node-feed.<node id>`), so a restart resumes it:
 * no group is left behind per incarnation, and what happened while the node was away is
 * delivered (handlers are idempotent; each has a reconciliation for what Kafka misses). A new
 * group starts from the latest offset: the past is the reconciliations' business.
 */
export class NodeEventFeed {
  private readonly handlers = new Map<string, NodeEventHandler[]>();
  private consumer?: Consumer;

  constructor(
    private readonly kafka: Kafka,
    private readonly topicPrefix: string,
    private readonly nodeId: string,
    private readonly logger: Logger,
  ) {}

  get groupId(): string {
    return `${this.topicPrefix}.node-feed.${this.nodeId}`;
  }

  /** Registers a handler; call it before the node is up (a constructor or onModuleInit). */
  on(family: StreamFamily, handler: NodeEventHandler): void {
    const topic = topicFor(family, this.topicPrefix);
    this.handlers.set(topic, [...(this.handlers.get(topic) ?? []), handler]);
  }

  /**
   * In the background: joining the group may wait for a dead member of this node id to time out,
   * and the node must not wait for that (the reconciliations cover the meantime).
   */
  start(): void {
    if (this.handlers.size === 0) return;
    void this.consume().catch((error: Error) => this.logger.warn({ err: error.message }, 'node event feed could not start; the reconciliations still run'));
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }

  private async consume(): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: this.groupId, ...LASTING_CONSUMER });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [...this.handlers.keys()], fromBeginning: false });
    await consumer.run({
      // Offsets committed at most once per KAFKA_COMMIT_MS, not after every batch (an OffsetCommit
      // request and a wake-up less per session event): a restart is delivered again at most that
      // much, and the handlers are idempotent.
      autoCommit: false,
      autoCommitInterval: KAFKA_COMMIT_MS,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  private async handleBatch({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) return;
      await this.handle(batch.topic, message);
      resolveOffset(message.offset);
    }
    await commitOffsetsIfNecessary();
    await heartbeat();
  }

  private async handle(topic: string, message: KafkaMessage): Promise<void> {
    if (!message.value) return;
    const event: unknown = JSON.parse(message.value.toString('utf8'));
    for (const handler of this.handlers.get(topic) ?? []) {
      try {
        await handler(event);
      } catch (error) {
        this.logger.warn({ err: (error as Error).message, topic }, 'a node event handler failed; its reconciliation will catch up');
      }
    }
  }
}
