import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DB_POOL, DbPurposes, DeferredPass, LOGGER, QUARRY_CONFIG, type QuarryConfig } from '@quarry/platform';
import type { Pool } from 'pg';
import type { Logger } from 'pino';

/**
 * Remembers which sessions this node served and writes their last access in one statement every
 * flush interval, not one write per request. Idle expiry reads it; the interval is far below any
 * sensible idle timeout. The timer runs only while something waits to be written: an idle node
 * is not woken every second for nothing.
 */
@Injectable()
export class SessionActivity implements OnModuleInit, OnApplicationShutdown {
  private touched = new Set<string>();
  private everyMs = 1000;
  private readonly flushes: DeferredPass;

  constructor(
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    purposes: DbPurposes,
  ) {
    this.flushes = new DeferredPass(purposes, () => this.flush(), () => this.touched.size > 0);
  }

  onModuleInit(): void {
    this.everyMs = Math.max(50, Math.min(1000, Math.floor(this.config.sessions.idleTimeoutMs / 4)));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flushes.stop();
    await this.flush();
  }

  touch(publicId: string): void {
    this.touched.add(publicId);
    this.flushes.request(this.everyMs);
  }

  forget(publicId: string): void {
    this.touched.delete(publicId);
  }

  async flush(): Promise<void> {
    if (this.touched.size === 0) return;
    const ids = [...this.touched];
    this.touched = new Set();
    try {
      await this.pool.query('UPDATE open_sessions SET last_access = now() WHERE public_id = ANY($1::uuid[])', [ids]);
    } catch (error) {
      ids.forEach((id) => this.touched.add(id));
      this.logger.warn({ err: (error as Error).message }, 'could not record session activity; will retry');
    }
  }
}
