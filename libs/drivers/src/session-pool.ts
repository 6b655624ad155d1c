import type { DriverSessionSpec } from './driver';

export interface SessionPoolOptions<C> {
  maxSessions: number;
  idleMs: number;
  /** Opens a connection and runs the session's init scripts on it. */
  open(session: DriverSessionSpec): Promise<C>;
  close(conn: C): Promise<void>;
}

interface Entry<C> {
  version: string;
  conn: Promise<C>;
  opened?: C;
  /** Settles when the last queued work on this connection has. */
  tail: Promise<void>;
  busy: number;
  idleTimer?: NodeJS.Timeout;
  retired?: boolean;
  closed?: Promise<void>;
}

const ignore = () => undefined;

/**
 * One connection per Quarry session, because init scripts (temp functions, macros) live on the
 * connection. A changed resourcesVersion gets a fresh one; work on a session runs one at a time,
 * in order; sessions beyond `maxSessions` (least recently used first) and idle ones are closed.
 */
export class SessionPool<C> {
  /** By sessionId, least recently used first (a Map keeps insertion order). */
  private readonly entries = new Map<string, Entry<C>>();
  /** Retired entries whose connection is not closed yet. */
  private readonly retired = new Set<Entry<C>>();
  private closed = false;

  constructor(private readonly options: SessionPoolOptions<C>) {}

  /** Queues `work` on the session's connection, opening it (init scripts first) when needed. */
  run<T>(session: DriverSessionSpec, work: (conn: C) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('driver is closed'));
    const entry = this.entryFor(session);
    entry.busy++;
    clearTimeout(entry.idleTimer);
    const result = entry.tail.then(() => entry.conn).then(work);
    entry.tail = result.then(ignore, ignore);
    void entry.tail.then(() => {
      if (--entry.busy === 0) this.scheduleIdle(session.sessionId, entry);
    });
    return result;
  }

  /**
   * Runs `work` without waiting behind the session's queue: on its connection when that is free,
   * else on a short-lived connection with the same init scripts (planning must not wait for a
   * long query of the same session to finish).
   */
  async runNow<T>(session: DriverSessionSpec, work: (conn: C) => Promise<T>): Promise<T> {
    const entry = this.entries.get(session.sessionId);
    if (!entry || entry.version !== session.resourcesVersion || entry.busy === 0) return this.run(session, work);
    if (this.closed) throw new Error('driver is closed');
    const conn = await this.options.open(session);
    try {
      return await work(conn);
    } finally {
      await this.options.close(conn).catch(ignore);
    }
  }

  /** Forgets connections that broke; their sessions' next work opens fresh ones. */
  discard(broken: (conn: C) => boolean): void {
    for (const [sessionId, entry] of this.entries) if (entry.opened && broken(entry.opened)) this.retire(sessionId, entry);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Closes every connection now, without waiting for queued work (which then fails). */
  async close(): Promise<void> {
    this.closed = true;
    for (const [sessionId, entry] of this.entries) this.retire(sessionId, entry);
    await Promise.all([...this.retired].map((entry) => this.closeNow(entry)));
  }

  private entryFor(session: DriverSessionSpec): Entry<C> {
    const { sessionId, resourcesVersion } = session;
    const existing = this.entries.get(sessionId);
    if (existing) {
      this.entries.delete(sessionId);
      if (existing.version === resourcesVersion) {
        this.entries.set(sessionId, existing);
        return existing;
      }
      this.retire(sessionId, existing);
    }
    const entry: Entry<C> = { version: resourcesVersion, conn: this.options.open(session), tail: Promise.resolve(), busy: 0 };
    entry.conn.then(
      (conn) => (entry.opened = conn),
      // A failed open is not kept: the session's next statement tries again.
      () => this.entries.get(sessionId) === entry && this.entries.delete(sessionId),
    );
    this.entries.set(sessionId, entry);
    for (const [oldestId, oldest] of this.entries) {
      if (this.entries.size <= this.options.maxSessions) break;
      this.retire(oldestId, oldest);
    }
    return entry;
  }

  private scheduleIdle(sessionId: string, entry: Entry<C>): void {
    if (this.entries.get(sessionId) !== entry) return;
    entry.idleTimer = setTimeout(() => entry.busy === 0 && this.retire(sessionId, entry), this.options.idleMs);
    entry.idleTimer.unref();
  }

  /** Takes the entry out of use and closes its connection once its queued work is done. */
  private retire(sessionId: string, entry: Entry<C>): void {
    if (this.entries.get(sessionId) === entry) this.entries.delete(sessionId);
    clearTimeout(entry.idleTimer);
    if (entry.retired) return;
    entry.retired = true;
    this.retired.add(entry);
    void entry.tail.then(() => this.closeNow(entry));
  }

  private closeNow(entry: Entry<C>): Promise<void> {
    entry.closed ??= entry.conn
      .then((conn) => this.options.close(conn))
      .catch(ignore)
      .finally(() => this.retired.delete(entry));
    return entry.closed;
  }
}
