import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DB_POOL, LOGGER } from '@quarry/platform';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { FINISHED_CHANNEL } from './query-channels';

/**
 * Tells waiters on this node (EXECUTE_WITH_TIMEOUT) the moment a query ends anywhere in the
 * cluster, through PostgreSQL NOTIFY, so they need not poll. Waiters re-check the query's stream
 * on every wake-up and at a slow interval besides, so a missed notice only costs time.
 */
@Injectable()
export class QueryFinishListener implements OnModuleInit, OnApplicationShutdown {
  private readonly waiters = new Map<string, Set<() => void>>();
  private client?: PoolClient;
  private stopping = false;

  constructor(
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.listen();
  }

  onApplicationShutdown(): void {
    this.stopping = true;
    this.client?.release(true);
    for (const set of this.waiters.values()) set.forEach((wake) => wake());
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

  private async listen(): Promise<void> {
    const client = await this.pool.connect();
    client.on('notification', (message) => {
      if (message.payload) this.waiters.get(message.payload)?.forEach((wake) => wake());
    });
    client.on('error', (error) => {
      this.logger.warn({ err: error.message }, 'query finish listener lost; reconnecting');
      this.client = undefined;
      client.release(error);
      if (!this.stopping) setTimeout(() => void this.listen().catch(() => undefined), 500).unref();
    });
    await client.query(`LISTEN ${FINISHED_CHANNEL}`);
    this.client = client;
  }
}
