import { randomUUID } from 'node:crypto';

/** How hard a measurement pushes: sequential samples for latency, `total` operations over `concurrency` lanes for throughput. */
export interface LoadSettings {
  warmup: number;
  samples: number;
  total: number;
  concurrency: number;
}

/** Latency p50/p99/mean in ms plus the throughput of the concurrent phase. */
export interface LoadResult {
  latency: import('./stats').LatencySummary;
  perSecond: number;
  throughputMs: number;
}

const nodeIncarnation = randomUUID();

/**
 * A JSON document the size and shape of what the outbox relay publishes for a SessionOpened
 * (about 450 bytes), so the baselines move comparable bytes.
 */
export function envelopeLike(i: number): string {
  const publicId = randomUUID();
  return JSON.stringify({
    eventId: randomUUID(),
    streamId: `session-${publicId}`,
    streamVersion: 1,
    type: 'SessionOpened',
    schemaVersion: 1,
    payload: { publicId, secretIdSha256: 'c'.repeat(64), userName: `user${i % 7}`, database: 'default', params: {} },
    nodeId: 'L1',
    nodeIncarnation,
    occurredAt: new Date().toISOString(),
    globalPosition: i + 1,
  });
}

/** Resolves with `promise`, or rejects after `ms` (the timer is cleared either way). */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
