import type { ProjectionLag } from '@quarry/eventstore';
import { withTimeout } from '@quarry/platform';
import type { Admin } from 'kafkajs';
import type { Pool } from 'pg';

export interface ReadinessReport {
  ready: boolean;
  checks: { database: 'up' | 'down'; kafka: 'up' | 'down' };
  /** Each projection's lag (null while the database does not answer); reported, not a condition of readiness. */
  projections: Record<string, ProjectionLag> | null;
}

const CHECK_TIMEOUT_MS = 2000;

async function answers(check: () => Promise<unknown>): Promise<'up' | 'down'> {
  try {
    await withTimeout(check(), CHECK_TIMEOUT_MS);
    return 'up';
  } catch {
    return 'down';
  }
}

/**
 * Whether this node can do its work right now: both PostgreSQL and Kafka answer. A projection
 * behind the event store (catching up, Kafka away) is shown but does not make the node unready:
 * reads still answer, from the projection as it stands and from streams.
 */
export async function checkReadiness(pool: Pool, admin: Admin, projectionLags: () => Promise<Record<string, ProjectionLag>>): Promise<ReadinessReport> {
  const [database, kafka, projections] = await Promise.all([
    answers(() => pool.query('SELECT 1')),
    answers(() => admin.describeCluster()),
    withTimeout(projectionLags(), CHECK_TIMEOUT_MS).catch(() => null),
  ]);
  return { ready: database === 'up' && kafka === 'up', checks: { database, kafka }, projections };
}
