/**
 * kafkajs 2.2.4 (pinned, ADR 4) re-arms a timer of every broker connection's request queue after
 * each check even when nothing is pending, with a negative delay: from its first answer on, each
 * connection runs a ~1 ms timer loop for ever (tulios/kafkajs#1556, #1704; the fix of PR #1667 is
 * unreleased). Idle, that loop was most of a node's CPU. This applies the same fix: with nothing
 * pending there is nothing to check (a request that has to wait schedules its own check when it is
 * queued, and a throttle only delays requests that wait).
 */
import { createRequire } from 'node:module';

interface RequestQueueInternals {
  pending: unknown[];
  scheduleCheckPendingRequests(): void;
}

const requireKafkajs = createRequire(require.resolve('kafkajs'));
/** The RequestQueue class kafkajs itself uses (the same module instance), undefined if its layout changed. */
export const KafkajsRequestQueue = loadRequestQueue();

function loadRequestQueue(): { prototype: RequestQueueInternals } | undefined {
  if ((requireKafkajs('./package.json') as { version: string }).version !== '2.2.4') return undefined;
  return requireKafkajs('./src/network/requestQueue/index.js') as { prototype: RequestQueueInternals };
}

let applied = false;

/** Idempotent; a no-op for any kafkajs but 2.2.4. */
export function stopIdleRequestQueueLoop(): void {
  if (applied || !KafkajsRequestQueue) return;
  applied = true;
  const schedule = KafkajsRequestQueue.prototype.scheduleCheckPendingRequests;
  KafkajsRequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueueInternals) {
    if (this.pending.length > 0) schedule.call(this);
  };
}
