import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import type { ListenerInterest } from '../store/event-store';

/** First wait before listening again; it doubles, up to the maximum, while reconnecting fails. */
const RECONNECT_MS = 500;
const RECONNECT_MAX_MS = 5000;

/**
 * LISTEN on channels, on the node's listening connection (one per pool, shared by every listener
 * of the node instead of a pinned connection each), which comes back by itself when lost (and
 * keeps trying while the database is away). A notice lost while reconnecting is the caller's to
 * make up for: `onRelisten` is called once the channels are listened to again (and each caller
 * may also re-check on a slow timer).
 */
export class PgListener {
  private connection?: ListenConnection;

  constructor(
    private readonly pool: Pool,
    readonly channels: string[],
    readonly onNotice: (channel: string, payload: string | undefined) => void,
    readonly what: string,
    private readonly logger: Logger,
    readonly onRelisten?: () => void,
  ) {}

  /** Resolves once its channels are listened to; fails (and listens to nothing) if they cannot be. */
  async start(): Promise<void> {
    this.connection = ListenConnection.of(this.pool, this.logger);
    await this.connection.add(this);
  }

  stop(): void {
    this.connection?.remove(this);
    this.connection = undefined;
  }

  /**
   * Says, on the listening connection, that this node wants the notices sent only if heard
   * (Notification.onlyIfHeard) under `interest`, until `release`: an advisory lock held shared,
   * taken again after a reconnect. Resolves once it is held, so a look at what the notice is about
   * made after it cannot miss one. Best effort: while the connection is away it resolves at once
   * (the caller's slow re-check covers that time).
   */
  async hold(interest: ListenerInterest): Promise<void> {
    await this.connection?.hold(interest).catch(() => undefined);
  }

  release(interest: ListenerInterest): void {
    this.connection?.release(interest);
  }
}

const interestId = (i: ListenerInterest) => `${i.classId}\u0000${i.key}`;

const byPool = new WeakMap<Pool, ListenConnection>();

/** The one connection of a pool that LISTENs to the channels of all its listeners. */
class ListenConnection {
  private readonly listeners = new Set<PgListener>();
  private client?: PoolClient;
  private listening = new Set<string>();
  /** Interests held by the node's listeners (how many hold each), and those held on the current client. */
  private readonly interests = new Map<string, { interest: ListenerInterest; holders: number }>();
  private held = new Set<string>();
  /** Changes to the connection, one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private reconnecting = false;

  private constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
  ) {}

  static of(pool: Pool, logger: Logger): ListenConnection {
    let connection = byPool.get(pool);
    if (!connection) byPool.set(pool, (connection = new ListenConnection(pool, logger)));
    return connection;
  }

  async add(listener: PgListener): Promise<void> {
    this.listeners.add(listener);
    try {
      await this.sync();
    } catch (error) {
      this.listeners.delete(listener);
      if (this.listeners.size > 0) this.reconnectLater();
      throw error;
    }
  }

  remove(listener: PgListener): void {
    if (!this.listeners.delete(listener)) return;
    // Unlistening a channel nobody needs any more can wait; a failure drops the connection.
    void this.sync().catch(() => this.listeners.size > 0 && this.reconnectLater());
  }

  hold(interest: ListenerInterest): Promise<void> {
    const id = interestId(interest);
    const entry = this.interests.get(id) ?? { interest, holders: 0 };
    entry.holders++;
    this.interests.set(id, entry);
    return this.client ? this.sync() : Promise.resolve();
  }

  release(interest: ListenerInterest): void {
    const id = interestId(interest);
    const entry = this.interests.get(id);
    if (!entry || --entry.holders > 0) return;
    this.interests.delete(id);
    if (this.client) void this.sync().catch(() => this.listeners.size > 0 && this.reconnectLater());
  }

  private get whats(): string {
    return [...this.listeners].map((l) => l.what).join(', ');
  }

  /** Brings the connection in line with the listeners: open and LISTEN, UNLISTEN, or give it up. */
  private sync(): Promise<void> {
    const next = this.queue.then(() => this.syncNow());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async syncNow(): Promise<void> {
    const wanted = new Set([...this.listeners].flatMap((l) => l.channels));
    if (wanted.size === 0) return this.drop(true);
    const client = this.client ?? (await this.open());
    try {
      for (const channel of wanted) {
        if (this.listening.has(channel)) continue;
        await client.query(`LISTEN ${channel}`);
        this.listening.add(channel);
      }
      for (const channel of [...this.listening]) {
        if (wanted.has(channel)) continue;
        await client.query(`UNLISTEN ${channel}`);
        this.listening.delete(channel);
      }
      for (const [id, { interest }] of this.interests) {
        if (this.held.has(id)) continue;
        await client.query({ name: 'quarry-interest-hold', text: 'SELECT pg_advisory_lock_shared($1::int, hashtext($2::text))', values: [interest.classId, interest.key] });
        this.held.add(id);
      }
      for (const id of [...this.held]) {
        if (this.interests.has(id)) continue;
        const [classId, key] = id.split('\u0000');
        await client.query({ name: 'quarry-interest-release', text: 'SELECT pg_advisory_unlock_shared($1::int, hashtext($2::text))', values: [Number(classId), key] });
        this.held.delete(id);
      }
    } catch (error) {
      this.drop(error as Error);
      throw error;
    }
  }

  private async open(): Promise<PoolClient> {
    const client = await this.pool.connect();
    client.on('notification', (message) => {
      for (const listener of this.listeners) if (listener.channels.includes(message.channel)) listener.onNotice(message.channel, message.payload);
    });
    client.on('error', (error) => {
      // Once only: a loss may be reported twice (the server's message, then the socket's end).
      if (this.client !== client) return;
      this.drop(error);
      if (this.listeners.size === 0) return;
      this.logger.warn({ err: error.message }, `${this.whats}: listener lost; reconnecting`);
      this.reconnectLater();
    });
    this.client = client;
    this.listening = new Set();
    this.held = new Set();
    return client;
  }

  /** Destroyed, never back in the pool (it would still be listening). */
  private drop(error: Error | true): void {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    this.listening = new Set();
    this.held = new Set();
    client.release(error);
  }

  private reconnectLater(waitMs = RECONNECT_MS): void {
    if (this.reconnecting) return;
    this.reconnecting = true;
    setTimeout(() => {
      this.reconnecting = false;
      if (this.listeners.size === 0) return;
      this.sync().then(
        () => this.listeners.forEach((l) => l.onRelisten?.()),
        (error: Error) => {
          const next = Math.min(2 * waitMs, RECONNECT_MAX_MS);
          this.logger.warn({ err: error.message, retryInMs: next }, `${this.whats}: listener could not reconnect; trying again`);
          this.reconnectLater(next);
        },
      );
    }, waitMs).unref();
  }
}
