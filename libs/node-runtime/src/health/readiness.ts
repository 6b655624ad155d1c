import type { Admin } from 'kafkajs';
import type { Pool } from 'pg';

export interface ReadinessReport {
  ready: boolean;
  checks: { database: 'up' | 'down'; kafka: 'up' | 'down' };
}

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    work.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error) => (clearTimeout(timer), reject(error)),
    );
  });
}

async function answers(check: () => Promise<unknown>): Promise<'up' | 'down'> {
  try {
    await withTimeout(check(), CHECK_TIMEOUT_MS);
    return 'up';
  } catch {
    return 'down';
  }
}

/** Whether this node can do its work right now: both PostgreSQL and Kafka answer. */
export async function checkReadiness(pool: Pool, admin: Admin): Promise<ReadinessReport> {
  const [database, kafka] = await Promise.all([
    answers(() => pool.query('SELECT 1')),
    answers(() => admin.describeCluster()),
  ]);
  return { ready: database === 'up' && kafka === 'up', checks: { database, kafka } };
}
