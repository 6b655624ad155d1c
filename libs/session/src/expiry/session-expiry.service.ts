import { Inject, Injectable } from '@nestjs/common';
import { LeaderSweepService } from '@quarry/eventstore';
import { DB_POOL, LOGGER, QUARRY_CONFIG, type QuarryConfig } from '@quarry/platform';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { SessionRefused } from '../domain/session.errors';
import { SessionRepository } from '../infrastructure/session-repository';

const EXPIRY_LOCK = 7_041_998_003;
const BATCH = 500;

/**
 * Expires idle sessions. Every node runs it, one leads (LeaderSweep), so sessions are expired
 * once by one node rather than by all at once; the expected-version append would refuse a
 * second SessionExpired anyway.
 */
@Injectable()
export class SessionExpiryService extends LeaderSweepService {
  constructor(
    private readonly repository: SessionRepository,
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super(pool, EXPIRY_LOCK, 'session expiry', logger, config.sessions.expiryCheckMs);
  }

  protected pass(): Promise<void> {
    return this.expireIdle();
  }

  /** Expires every session idle past the timeout. */
  private async expireIdle(): Promise<void> {
    const timeoutMs = this.config.sessions.idleTimeoutMs;
    const { rows } = await this.pool.query<{ public_id: string; last_access: Date }>(
      `SELECT public_id, last_access FROM open_sessions
       WHERE last_access < now() - make_interval(secs => $1::double precision / 1000)
         -- A session with unfinished queries is not idle (read from the queries projection).
         AND NOT EXISTS (SELECT 1 FROM queries q WHERE q.session_public_id = open_sessions.public_id
                         AND q.status IN ('QUEUED', 'LAUNCHED', 'RUNNING', 'EXECUTED'))
       ORDER BY last_access LIMIT $2`,
      [timeoutMs, BATCH],
    );
    for (const row of rows) await this.expire(row.public_id, row.last_access, timeoutMs);
  }

  private async expire(publicId: string, lastAccess: Date, idleTimeoutMs: number): Promise<void> {
    try {
      await this.repository.execute(
        publicId,
        { type: 'ExpireSession', idleSince: lastAccess.toISOString(), idleTimeoutMs },
        { alsoInTransaction: (tx) => tx.query('DELETE FROM open_sessions WHERE public_id = $1', [publicId]) },
      );
      this.logger.info({ session: publicId, idleSince: lastAccess.toISOString() }, 'session expired');
    } catch (error) {
      // Closed meanwhile: its reservation row is gone with the close.
      if (!(error instanceof SessionRefused)) throw error;
    }
  }
}
