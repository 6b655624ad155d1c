import type { Pool, PoolClient } from 'pg';

/** Told when the connection holding its lock is gone (and with it the lock). */
export type LockLost = (error: Error) => void;

const byPool = new WeakMap<Pool, LockConnection>();

/**
 * The one connection of a pool (so of a node) that holds every session advisory lock the node
 * wins: the relay's and every leader sweep's, instead of a pinned connection per lock. PostgreSQL
 * frees them all the moment it dies (SIGKILL, network), so other nodes take over at their next try.
 * While it holds no lock it goes back to the pool.
 */
export class LockConnection {
  private client?: PoolClient;
  private opening?: Promise<PoolClient>;
  private onError?: (error: Error) => void;
  private readonly holders = new Map<number, LockLost>();
  /** Statements in flight: the connection is given back only when none is and no lock is held. */
  private inUse = 0;

  private constructor(private readonly pool: Pool) {}

  static of(pool: Pool): LockConnection {
    let locks = byPool.get(pool);
    if (!locks) byPool.set(pool, (locks = new LockConnection(pool)));
    return locks;
  }

  /** The connection holding the lock, or undefined if another session (or a holder on this node) has it. */
  async tryLock(key: number, onLost: LockLost): Promise<PoolClient | undefined> {
    if (this.holders.has(key)) return undefined;
    return this.use(async (client) => {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [key]);
      if (!rows[0].locked) return undefined;
      this.holders.set(key, onLost);
      return client;
    });
  }

  async unlock(key: number): Promise<void> {
    if (!this.holders.delete(key)) return;
    await this.use((client) => client.query('SELECT pg_advisory_unlock($1)', [key])).catch(() => undefined);
  }

  /** Drops the connection (and tells every holder) if it no longer answers. */
  async verify(): Promise<void> {
    if (this.holders.size === 0) return;
    await this.use((client) => client.query('SELECT 1')).catch(() => undefined);
  }

  private async use<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    this.inUse++;
    try {
      const client = await this.connection();
      try {
        return await work(client);
      } catch (error) {
        this.lose(client, error as Error);
        throw error;
      }
    } finally {
      this.inUse--;
      if (this.inUse === 0 && this.holders.size === 0) this.giveBack();
    }
  }

  private connection(): Promise<PoolClient> {
    if (this.client) return Promise.resolve(this.client);
    this.opening ??= this.pool
      .connect()
      .then((client) => {
        // A loss may be reported twice (the server's message, then the socket's end): lose() acts once.
        this.onError = (error) => this.lose(client, error);
        client.on('error', this.onError);
        this.client = client;
        return client;
      })
      .finally(() => (this.opening = undefined));
    return this.opening;
  }

  private giveBack(): void {
    const client = this.client;
    if (!client) return;
    this.detach(client);
    client.release();
  }

  private lose(client: PoolClient, error: Error): void {
    if (this.client !== client) return;
    this.detach(client);
    // Destroyed, never returned to the pool: a pooled connection would keep the locks.
    client.release(error);
    const holders = [...this.holders.values()];
    this.holders.clear();
    for (const lost of holders) lost(error);
  }

  private detach(client: PoolClient): void {
    this.client = undefined;
    if (this.onError) client.removeListener('error', this.onError);
    client.removeAllListeners('notification');
  }
}
