import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { LockConnection } from './lock-connection';

/**
 * Cluster-wide "only one of us does this" on a PostgreSQL session advisory lock, held on the
 * node's lock connection (LockConnection, shared by every lock of the node). PostgreSQL frees the
 * lock the moment that connection dies (SIGKILL, network), so another node takes over at its next
 * try without any lease timeout.
 */
export class AdvisoryLeadership {
  private held?: PoolClient;
  private readonly locks: LockConnection;

  constructor(
    pool: Pool,
    private readonly key: number,
    private readonly what: string,
    private readonly logger: Logger,
    private readonly onChange?: (leader: boolean) => void,
  ) {
    this.locks = LockConnection.of(pool);
  }

  /** The lock-holding connection (shared with the node's other locks), or undefined while another node leads. */
  get client(): PoolClient | undefined {
    return this.held;
  }

  async tryAcquire(): Promise<PoolClient | undefined> {
    if (this.held) return this.held;
    const client = await this.locks.tryLock(this.key, (error) => {
      this.logger.warn({ err: error.message }, `${this.what}: lock connection lost`);
      this.drop();
    });
    if (!client) return undefined;
    this.held = client;
    this.onChange?.(true);
    this.logger.info(`${this.what}: this node now leads`);
    return client;
  }

  /** Gives the lock up if its connection no longer answers. */
  async verify(): Promise<void> {
    if (this.held) await this.locks.verify();
  }

  async release(): Promise<void> {
    if (!this.held) return;
    this.drop();
    await this.locks.unlock(this.key);
  }

  private drop(): void {
    if (!this.held) return;
    this.held = undefined;
    this.onChange?.(false);
  }
}
