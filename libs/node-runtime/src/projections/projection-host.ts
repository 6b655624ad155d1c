import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LeadingProjectionRunner, PgEventStore, ProjectionRunner, type Projection, type ProjectionLag } from '@quarry/eventstore';
import { DbPurposes, DB_POOL, KAFKA, LOGGER, QUARRY_CONFIG, QuarryMetrics, type QuarryConfig } from '@quarry/platform';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { Logger } from 'pino';

export const NODE_PROJECTION_LIST = Symbol('NODE_PROJECTION_LIST');

/**
 * Runs one consumer (ProjectionRunner) for every Kafka-fed projection this node's services keep
 * current, while this node keeps them: of the nodes that run the same projections, the one holding
 * their lock (LeadingProjectionRunner). Every node reports their lag, read from PostgreSQL.
 */
@Injectable()
export class ProjectionHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private runner?: ProjectionRunner;
  private leading?: LeadingProjectionRunner;

  constructor(
    @Inject(NODE_PROJECTION_LIST) private readonly projections: Projection[],
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly store: PgEventStore,
    private readonly metrics: QuarryMetrics,
    private readonly purposes: DbPurposes,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const runner = new ProjectionRunner(this.projections, this.pool, this.store, this.kafka, this.config.topicPrefix, this.logger, {
      applied: (name, outcome) => {
        this.metrics.projectionApplied.inc({ projection: name }, outcome.applied);
        this.metrics.projectionSkipped.inc({ projection: name }, outcome.skipped);
      },
      topicReplaced: (name, _topic, partitions) => this.metrics.projectionTopicResets.inc({ projection: name }, partitions),
    });
    this.runner = runner;
    this.metrics.projectionLagSource = async () =>
      Object.fromEntries(Object.entries(await this.lags()).map(([name, lag]) => [name, lag.eventsBehind]));
    if (this.projections.length > 0) {
      // The lock tries are timers' work (`background`); what the consumer does is `projection`.
      this.leading = new LeadingProjectionRunner(runner, this.pool, this.logger, (start) => this.purposes.run('projection', start));
      await this.leading.start();
    }
    const keeper = this.leading ? (this.leading.keeping ? 'this node' : 'another node') : 'none to keep';
    this.logger.info({ projections: this.projections.map((p) => p.name), keeper }, 'projections running');
  }

  /** Each projection's lag, computed now (a query per projection): for a scrape or /ready, never periodic. */
  async lags(): Promise<Record<string, ProjectionLag>> {
    return (await this.runner?.lags()) ?? {};
  }

  async onApplicationShutdown(): Promise<void> {
    await this.leading?.stop();
  }
}
