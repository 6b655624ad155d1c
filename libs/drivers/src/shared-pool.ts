import type { DriverSessionSpec } from './driver';

export interface SharedPoolOptions<C> {
  /** The most connections open at once, over every key (runNow's short-lived extras aside). */
  max: number;
  /** A connection idle this long is closed. */
  idleMs: number;
  /** Connections serve only sessions of their own key (e.g. the role they run as); '' for all. */
  keyOf(session: DriverSessionSpec): string;
  /** Opens a connection for the session's key. */
  open(session: DriverSessionSpec): Promise<C>;
  close(conn: C): Promise<void>;
  /** Whether a connection whose work ended may serve the next one (not lost, not inside a transaction). */
  reusable(conn: C): boolean;
}

interface Idle<C> {
  conn: C;
  key: string;
  timer: NodeJS.Timeout;
}

interface Waiter<C> {
  session: DriverSessionSpec;
  key: string;
  resolve(conn: C): void;
  reject(error: unknown): void;
}

const ignore = () => undefined;
const closedError = () => new Error('driver is closed');

/**
 * A bounded pool of connections shared by the sessions of one key: sessions without anything of
 * their own on a connection (no init scripts) need none of their own, so a session's statements
 * run side by side and a plan never waits behind its session's long query. Work waits for a
 * connection only when `max` are in use; a connection goes back only when `reusable` says so.
 */
export class SharedPool<C> {
  /** Idle connections, longest idle first. */
  private readonly idle: Idle<C>[] = [];
  private readonly waiters: Waiter<C>[] = [];
  /** Every connection counted against `max`: opening, idle, in use. */
  private counted = 0;
  /** Connections open and not yet closed by the pool (idle or in use). */
  private readonly live = new Set<C>();
  private readonly closing = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly options: SharedPoolOptions<C>) {
    if (!Number.isInteger(options.max) || options.max < 1) throw new Error(`a shared pool needs max >= 1, not ${options.max}`);
  }

  /** Runs `work` on a connection of the session's key, waiting for one while `max` are in use. */
  async run<T>(session: DriverSessionSpec, work: (conn: C) => Promise<T>): Promise<T> {
    const key = this.options.keyOf(session);
    return this.use(await this.acquire(session, key), key, work);
  }

  /**
   * Runs `work` at once: on a free connection, else (all `max` in use) on a short-lived one, so
   * planning never waits for long statements to end.
   */
  async runNow<T>(session: DriverSessionSpec, work: (conn: C) => Promise<T>): Promise<T> {
    if (this.closed) throw closedError();
    const key = this.options.keyOf(session);
    const free = this.takeIdle(key) ?? (this.makeRoom() ? await this.openCounted(session) : undefined);
    if (free !== undefined) return this.use(free, key, work);
    const extra = await this.options.open(session);
    try {
      return await work(extra);
    } finally {
      await this.options.close(extra).catch(ignore);
    }
  }

  /** Closes idle connections that broke; one in use is judged by `reusable` when its work ends. */
  discard(broken: (conn: C) => boolean): void {
    for (const entry of this.idle.filter((e) => broken(e.conn))) this.dropIdle(entry);
  }

  /** Connections open or opening (runNow's extras aside). */
  get size(): number {
    return this.counted;
  }

  /** Closes every connection now, those in use too (their work then fails); waiting work fails. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(closedError());
    for (const entry of this.idle.splice(0)) clearTimeout(entry.timer);
    for (const conn of [...this.live]) this.closeConn(conn);
    await Promise.all([...this.closing]);
  }

  private acquire(session: DriverSessionSpec, key: string): Promise<C> {
    if (this.closed) return Promise.reject(closedError());
    const free = this.takeIdle(key);
    if (free !== undefined) return Promise.resolve(free);
    if (this.makeRoom()) return this.openCounted(session);
    return new Promise((resolve, reject) => this.waiters.push({ session, key, resolve, reject }));
  }

  private async use<T>(conn: C, key: string, work: (conn: C) => Promise<T>): Promise<T> {
    try {
      return await work(conn);
    } finally {
      this.release(conn, key);
    }
  }

  /** The most recently used idle connection of the key: the others may reach their idle time. */
  private takeIdle(key: string): C | undefined {
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const entry = this.idle[i];
      if (entry.key !== key) continue;
      this.idle.splice(i, 1);
      clearTimeout(entry.timer);
      return entry.conn;
    }
    return undefined;
  }

  /** Room for one more connection: below `max`, or by closing the longest idle one (another key's). */
  private makeRoom(): boolean {
    if (this.counted < this.options.max) return true;
    const oldest = this.idle.shift();
    if (!oldest) return false;
    clearTimeout(oldest.timer);
    this.closeConn(oldest.conn);
    return true;
  }

  private async openCounted(session: DriverSessionSpec): Promise<C> {
    this.counted++;
    let conn: C;
    try {
      conn = await this.options.open(session);
    } catch (error) {
      this.counted--;
      this.serveNextWaiter();
      throw error;
    }
    this.live.add(conn);
    if (this.closed) {
      this.closeConn(conn);
      throw closedError();
    }
    return conn;
  }

  /** Work ended: the connection goes to the first waiter, or idles; one not reusable is closed. */
  private release(conn: C, key: string): void {
    if (!this.live.has(conn)) return; // closed by close() meanwhile
    if (this.closed || !this.options.reusable(conn)) {
      this.closeConn(conn);
      this.serveNextWaiter();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter?.key === key) {
      waiter.resolve(conn);
    } else if (waiter) {
      // First come, first served: its key needs a connection of its own, in this one's place.
      this.closeConn(conn);
      this.openFor(waiter);
    } else {
      this.idleNow(conn, key);
    }
  }

  private idleNow(conn: C, key: string): void {
    const entry: Idle<C> = { conn, key, timer: setTimeout(() => this.dropIdle(entry), this.options.idleMs) };
    entry.timer.unref();
    this.idle.push(entry);
  }

  private dropIdle(entry: Idle<C>): void {
    const at = this.idle.indexOf(entry);
    if (at < 0) return;
    this.idle.splice(at, 1);
    clearTimeout(entry.timer);
    this.closeConn(entry.conn);
    this.serveNextWaiter();
  }

  private serveNextWaiter(): void {
    if (this.counted >= this.options.max) return;
    const waiter = this.waiters.shift();
    if (waiter) this.openFor(waiter);
  }

  private openFor(waiter: Waiter<C>): void {
    this.openCounted(waiter.session).then(waiter.resolve, waiter.reject);
  }

  private closeConn(conn: C): void {
    if (!this.live.delete(conn)) return;
    this.counted--;
    const closing = this.options
      .close(conn)
      .catch(ignore)
      .finally(() => this.closing.delete(closing));
    this.closing.add(closing);
  }
}
