import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DB_POOL, LOGGER } from '@quarry/platform';
import { PgListener } from '@quarry/eventstore';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { FINISHED_CHANNEL, finishedInterest } from './query-channels';
import { LocalExecution } from './local-execution';

/**
 * Tells waiters on this node (EXECUTE_WITH_TIMEOUT) the moment a query ends anywhere in the
 * cluster, through PostgreSQL NOTIFY, so they need not poll; a wait for a query run elsewhere
 * says so first (heed), as an end is NOTIFYed only to the nodes that wait for it. Waiters re-check
 * the query's stream on every wake-up and at a slow interval besides, so a missed notice only costs time.
 */
@Injectable()
export class QueryFinishListener implements OnModuleInit, OnApplicationShutdown {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly listener: PgListener;

  constructor(@Inject(DB_POOL) pool: Pool, @Inject(LOGGER) logger: Logger, local: LocalExecution) {
    this.listener = new PgListener(pool, [FINISHED_CHANNEL], (_, payload) => payload && this.wake(payload), 'query finish listener', logger);
    // An end recorded on this node wakes its waiters at once.
    local.onEnded((queryHandle) => this.wake(queryHandle));
  }

  onModuleInit(): Promise<void> {
    return this.listener.start();
  }

  onApplicationShutdown(): void {
    this.listener.stop();
    for (const set of this.waiters.values()) set.forEach((wake) => wake());
  }

  /**
   * Waits to come for a query another node may end: its end NOTIFYs only the nodes that say they
   * wait (finishedInterest). Resolves once this node is heard as waiting; call the result when done.
   */
  async heed(queryHandle: string): Promise<() => void> {
    const interest = finishedInterest(queryHandle);
    await this.listener.hold(interest);
    return () => this.listener.release(interest);
  }

  private wake(queryHandle: string): void {
    this.waiters.get(queryHandle)?.forEach((wake) => wake());
  }

  /** Resolves when `queryHandle` is said to have ended, or after `ms`, whichever comes first. */
  next(queryHandle: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(queryHandle) ?? new Set();
      const wake = () => {
        clearTimeout(timer);
        set.delete(wake);
        if (set.size === 0) this.waiters.delete(queryHandle);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      set.add(wake);
      this.waiters.set(queryHandle, set);
    });
  }
}
