import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';

/**
 * Cluster-wide "only one of us does this" on a PostgreSQL session advisory lock, held on a
 * dedicated connection. PostgreSQL frees the lock the moment that connection dies (SIGKILL,
 * network), so another node takes over at its next try without any lease timeout.
 */
export class AdvisoryLeadership {
  private held?: PoolClient;

  constructor(
    private readonly pool: Pool,
    private readonly key: number,
    private readonly what: string,
    private readonly logger: Logger,
    private readonly onChange?: (leader: boolean) => void,
  ) {}

  /** The lock-holding connection, or undefined while another node leads. */
  get client(): PoolClient | undefined {
    return this.held;
  }

  async tryAcquire(): Promise<PoolClient | undefined> {
    if (this.held) return this.held;
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [this.key]);
      if (!rows[0].locked) {
        client.release();
        return undefined;
      }
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
    client.on('error', (error) => {
      // A loss may be reported twice (the server's message, then the socket's end); the second, or
      // one after verify() gave the lock up, is about a connection already dropped.
      if (this.held !== client) return;
      this.logger.warn({ err: error.message }, `${this.what}: lock connection lost`);
      this.drop(error);
    });
    this.held = client;
    this.onChange?.(true);
    this.logger.info(`${this.what}: this node now leads`);
    return client;
  }

  /** Gives the lock up if its connection no longer answers. */
  async verify(): Promise<void> {
    try {
      await this.held?.query('SELECT 1');
    } catch (error) {
      this.drop(error as Error);
    }
  }

  async release(): Promise<void> {
    if (!this.held) return;
    await this.held.query('SELECT pg_advisory_unlock($1)', [this.key]).catch(() => undefined);
    this.drop();
  }

  private drop(error?: Error): void {
    const client = this.held;
    if (!client) return;
    this.held = undefined;
    this.onChange?.(false);
    client.removeAllListeners('notification');
    // Destroyed, never returned to the pool: a pooled connection would keep the lock.
    client.release(error ?? true);
  }
}
