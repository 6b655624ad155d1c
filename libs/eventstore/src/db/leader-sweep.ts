import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { AdvisoryLeadership } from './advisory-leadership';

/**
 * A periodic pass that every node schedules and only the leader runs (expiry, retention, keeping
 * a consumer running, ...): one pass at a time, a failed pass logged and retried at the next tick,
 * the lock given back on stop. `onLost` is told when a lock this node held goes with its connection.
 */
export class LeaderSweep {
  private readonly leadership: AdvisoryLeadership;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    pool: Pool,
    lockKey: number,
    private readonly what: string,
    private readonly logger: Logger,
    private readonly pass: () => Promise<void>,
    onLost?: () => void,
  ) {
    this.leadership = new AdvisoryLeadership(pool, lockKey, what, logger, onLost && ((leads) => leads || onLost()));
  }

  /** Whether this node holds the lock now. */
  get leads(): boolean {
    return this.leadership.client !== undefined;
  }

  /** One pass now (waiting for one under way), before or besides the ticks. */
  async runNow(): Promise<void> {
    await (this.running ??= this.runOnce().finally(() => (this.running = undefined)));
  }

  /** Gives the lock up (a pass that cannot do its work lets another node try). */
  release(): Promise<void> {
    return this.leadership.release();
  }

  start(everyMs: number): void {
    this.timer = setInterval(() => void this.runNow(), everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.leadership.release();
  }

  private async runOnce(): Promise<void> {
    try {
      await this.leadership.verify();
      if (await this.leadership.tryAcquire()) await this.pass();
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, `${this.what} pass failed; the next pass retries`);
    }
  }
}

/**
 * A Nest service whose job is one leader-run pass: it schedules the pass once the node is up and
 * gives the lock back when the node stops (Nest calls the two hooks by name).
 */
export abstract class LeaderSweepService {
  private readonly sweep: LeaderSweep;

  protected constructor(
    pool: Pool,
    lockKey: number,
    what: string,
    logger: Logger,
    private readonly everyMs: number,
  ) {
    this.sweep = new LeaderSweep(pool, lockKey, what, logger, () => this.pass());
  }

  /** One pass, on the leading node only. */
  protected abstract pass(): Promise<void>;

  onApplicationBootstrap(): void {
    this.sweep.start(this.everyMs);
  }

  onApplicationShutdown(): Promise<void> {
    return this.sweep.stop();
  }
}
