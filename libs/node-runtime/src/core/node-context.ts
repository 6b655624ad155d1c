import type { Projection } from '@quarry/eventstore';
import type { NodeIdentity, QuarryConfig, ServiceName, StatementCounts } from '@quarry/platform';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { Logger } from 'pino';

/** What bootstrap has built before Nest starts: shared by every module of the node. */
export interface NodeContext {
  config: QuarryConfig;
  identity: NodeIdentity;
  logger: Logger;
  pool: Pool;
  /** What the pool's clients sent, by purpose. */
  statements: StatementCounts;
  kafka: Kafka;
  targets: ServiceName[];
  projections: Projection[];
}
