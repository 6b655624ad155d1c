// Deadline-based polling: callers wait for a condition, never for a fixed amount of time.
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Calls `check` until it returns a truthy value and returns that value.
 * `check` may throw or return falsy to mean "not yet"; the last error is reported on timeout.
 * Aborting `signal` (e.g. because the awaited process died) ends the wait at once with its reason.
 */
export async function waitFor(check, { timeoutMs, intervalMs = 250, description, signal }) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    signal?.throwIfAborted();
    if (Date.now() >= deadline) {
      const cause = lastError ? ` (last error: ${lastError.message})` : '';
      throw new Error(`Timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${description}${cause}`);
    }
    await delay(Math.min(intervalMs, Math.max(0, deadline - Date.now())), undefined, { signal }).catch(() => {});
  }
}

/** Rejects with a timeout error if `promise` does not settle within `timeoutMs`. */
export async function withTimeout(promise, timeoutMs, description) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${description} did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
