import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { OutboxRelay } from '@quarry/eventstore';
import { DbPurposes, DB_POOL, KAFKA, LOGGER, QUARRY_CONFIG, QuarryMetrics, type QuarryConfig } from '@quarry/platform';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { Logger } from 'pino';

/** Every node runs a relay; the cluster-wide lock lets one of them publish at a time. */
@Injectable()
export class OutboxRelayHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly relay: OutboxRelay;

  constructor(
    @Inject(DB_POOL) pool: Pool,
    @Inject(KAFKA) kafka: Kafka,
    @Inject(QUARRY_CONFIG) config: QuarryConfig,
    @Inject(LOGGER) logger: Logger,
    metrics: QuarryMetrics,
    private readonly purposes: DbPurposes,
  ) {
    this.relay = new OutboxRelay(pool, kafka, { batchSize: config.relayBatchSize, idleMs: config.relayIdleMs, lingerMs: config.relayLingerMs, partitions: config.kafkaPartitions }, logger, {
      published: (count) => metrics.relayPublished.inc(count),
      failed: () => metrics.relayFailures.inc(),
      leadership: (leader) => metrics.relayIsLeader.set(leader ? 1 : 0),
    });
  }

  onApplicationBootstrap(): void {
    this.purposes.run('relay', () => this.relay.start());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay.stop();
  }
}
