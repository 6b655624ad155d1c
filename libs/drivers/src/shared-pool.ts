import type { DriverSessionSpec } from './driver';

export interface SharedPoolOptions<C> {
  /** The most connections open at once, over every key. */
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

/** A statement (may run long), or a plan (short, and a submit waits for it). */
type Use = 'statement' | 'plan';

interface Idle<C> {
  conn: C;
  key: string;
  timer: NodeJS.Timeout;
}

interface Waiter<C> {
  session: DriverSessionSpec;
  key: string;
  use: Use;
  resolve(conn: C): void;
  reject(error: unknown): void;
}

const ignore = () => undefined;
const closedError = () => new Error('driver is closed');

/**
 * A bounded pool of connections shared by the sessions of one key: sessions without anything of
 * their own on a connection (no init scripts) need none of their own, so a session's statements
 * run side by side. Never more than `max` connections: work waits, first come first served, for a
 * free one. Statements hold at most `max - 1` of them, so a plan never waits for a long statement
 * to end (only for other plans). A connection goes back only when `reusable` says so.
 */
export class SharedPool<C> {
  /** Idle connections, longest idle first. */
  private readonly idle: Idle<C>[] = [];
  private readonly waiters: Waiter<C>[] = [];
  /** Every connection counted against `max`: opening, idle, in use. */
  private counted = 0;
  /** Connections held (or being opened) for statements. */
  private statements = 0;
  private readonly statementsMax: number;
  /** Connections open and not yet closed by the pool (idle or in use). */
  private readonly live = new Set<C>();
  private readonly closing = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly options: SharedPoolOptions<C>) {
    if (!Number.isInteger(options.max) || options.max < 1) throw new Error(`a shared pool needs max >= 1, not ${options.max}`);
    this.statementsMax = options.max > 1 ? options.max - 1 : 1;
  }

  /** Runs a statement's `work` on a connection of the session's key, waiting for one if need be. */
  run<T>(session: DriverSessionSpec, work: (conn: C) => Promise<T>): Promise<T> {
    return this.runAs('statement', session, work);
  }

  /** Runs a plan's `work`: it may take the connection statements leave free, so it waits only for other plans. */
  runNow<T>(session: DriverSessionSpec, work: (conn: C) => Promise<T>): Promise<T> {
    return this.runAs('plan', session, work);
  }

  /** Closes idle connections that broke; one in use is judged by `reusable` when its work ends. */
  discard(broken: (conn: C) => boolean): void {
    for (const entry of this.idle.filter((e) => broken(e.conn))) this.dropIdle(entry);
  }

  /** Connections open or opening. */
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

  private async runAs<T>(use: Use, session: DriverSessionSpec, work: (conn: C) => Promise<T>): Promise<T> {
    const key = this.options.keyOf(session);
    const conn = await this.acquire({ session, key, use });
    try {
      return await work(conn);
    } finally {
      this.release(conn, key, use);
    }
  }

  private acquire(wanted: Omit<Waiter<C>, 'resolve' | 'reject'>): Promise<C> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      this.waiters.push({ ...wanted, resolve, reject });
      this.serveWaiters();
    });
  }

  /** Work ended: the connection idles (or is closed, if not reusable), and waiting work is served. */
  private release(conn: C, key: string, use: Use): void {
    if (use === 'statement') this.statements--;
    if (this.live.has(conn)) {
      if (this.closed || !this.options.reusable(conn)) this.closeConn(conn);
      else this.idleNow(conn, key);
    }
    this.serveWaiters();
  }

  /**
   * In order, each waiter that may start: on an idle connection of its key, else on a new one
   * (below `max`, or in the place of the longest idle connection, another key's).
   */
  private serveWaiters(): void {
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i];
      if (waiter.use === 'statement' && this.statements >= this.statementsMax) {
        i++;
        continue;
      }
      const idle = this.takeIdle(waiter.key);
      if (idle === undefined && !this.makeRoom()) return;
      this.waiters.splice(i, 1);
      if (waiter.use === 'statement') this.statements++;
      if (idle !== undefined) waiter.resolve(idle);
      else this.openFor(waiter);
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
    if (this.counted >= this.options.max) {
      const oldest = this.idle.shift();
      if (!oldest) return false;
      clearTimeout(oldest.timer);
      this.closeConn(oldest.conn);
    }
    this.counted++;
    return true;
  }

  /** Opens a connection in the place makeRoom made; a failed open gives the place back. */
  private openFor(waiter: Waiter<C>): void {
    this.options.open(waiter.session).then(
      (conn) => {
        this.live.add(conn);
        if (!this.closed) {
          waiter.resolve(conn);
          return;
        }
        this.closeConn(conn);
        this.failed(waiter, closedError());
      },
      (error: unknown) => {
        this.counted--;
        this.failed(waiter, error);
      },
    );
  }

  private failed(waiter: Waiter<C>, error: unknown): void {
    if (waiter.use === 'statement') this.statements--;
    waiter.reject(error);
    this.serveWaiters();
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
    this.serveWaiters();
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
