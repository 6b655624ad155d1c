/**
 * Two timers of kafkajs 2.2.4's request queue (pinned, ADR 4) that keep an idle node busy:
 * - It re-arms its pending-requests check after each check even when nothing is pending, with a
 *   negative delay: from its first answer on, each connection runs a ~1 ms timer loop for ever
 *   (tulios/kafkajs#1556, #1704; the fix of PR #1667 is unreleased). With nothing pending there is
 *   nothing to check (a request that has to wait schedules its own check when it is queued, and a
 *   throttle only delays requests that wait).
 * - Each connection looks for requests past their timeout every 100 ms for as long as it is
 *   connected: with four or five connections a node woke ~45 times a second for that alone
 *   (counted on idle nodes). Timeouts here are 10 s and more (requestTimeout, a fetch's long poll
 *   on top of it), so a look every second finds a stuck request as surely, at most a second late.
 */
import { createRequire } from 'node:module';

interface InflightRequest {
  sentAt: number;
  requestTimeout: number;
  timeoutRequest(): void;
}

interface RequestQueueInternals {
  pending: unknown[];
  inflight: Map<number, InflightRequest>;
  enforceRequestTimeout: boolean;
  requestTimeout: number;
  requestTimeoutIntervalId?: NodeJS.Timeout;
  isConnected(): boolean;
  destroy(): void;
  scheduleCheckPendingRequests(): void;
  scheduleRequestTimeoutCheck(): void;
}

/** How often a connection looks for requests past their timeout (kafkajs: every 100 ms). */
export const REQUEST_TIMEOUT_CHECK_MS = 1000;

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
  KafkajsRequestQueue.prototype.scheduleRequestTimeoutCheck = function (this: RequestQueueInternals) {
    if (!this.enforceRequestTimeout) return;
    this.destroy();
    this.requestTimeoutIntervalId = setInterval(() => {
      const now = Date.now();
      for (const request of this.inflight.values()) if (now - request.sentAt > request.requestTimeout) request.timeoutRequest();
      if (!this.isConnected()) this.destroy();
    }, Math.min(this.requestTimeout, REQUEST_TIMEOUT_CHECK_MS));
  };
}
