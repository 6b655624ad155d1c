import type { Logger } from 'pino';

/**
 * Retries a start-up step (database, broker) until it succeeds or the deadline passes, so nodes
 * started together with their dependencies wait for them instead of dying.
 */
export async function retryUntil<T>(what: string, step: () => Promise<T>, deadlineMs: number, logger: Logger): Promise<T> {
  const until = Date.now() + deadlineMs;
  let delay = 200;
  for (;;) {
    try {
      return await step();
    } catch (error) {
      if (Date.now() + delay > until) {
        throw new Error(`${what} did not succeed within ${deadlineMs} ms: ${(error as Error).message}`);
      }
      logger.warn({ err: (error as Error).message, retryInMs: delay }, `${what} failed; retrying`);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 2000);
    }
  }
}
