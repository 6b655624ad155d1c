import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { topicFor, type EventEnvelope } from '@quarry/contracts';
import { KAFKA, LOGGER, NODE_IDENTITY, QUARRY_CONFIG, type NodeIdentity, type QuarryConfig } from '@quarry/platform';
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { SessionRepository } from './session-repository';

/**
 * Drops this node's cached copy of a session when another node appends to it, so closed and
 * changed sessions leave memory. Correctness does not hang on it: every load also asks the store for
 * events past the cached version. Each incarnation reads with a group of its own (every node
 * needs every event), from the latest offset.
 */
@Injectable()
export class SessionCacheEvictor implements OnApplicationBootstrap, OnApplicationShutdown {
  private consumer?: Consumer;

  constructor(
    private readonly repository: SessionRepository,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: `${this.config.topicPrefix}.session-cache.${this.identity.nodeId}.${this.identity.incarnation}`,
      maxWaitTimeInMs: 100,
      retry: { retries: 10, restartOnFailure: async () => true },
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [topicFor('session', this.config.topicPrefix)], fromBeginning: false });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (!message.value) return;
        const event = JSON.parse(message.value.toString('utf8')) as EventEnvelope<string, { publicId?: string }>;
        if (event.payload?.publicId) this.repository.forgetIfOlder(event.payload.publicId, event.streamVersion);
      },
    });
    this.logger.debug('session cache follows the session topic');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }
}
