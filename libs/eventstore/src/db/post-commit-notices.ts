import type { Pool } from 'pg';
import type { Notification } from '../store/event-store';

/**
 * NOTIFYs sent after their transaction committed, in a statement of their own. A NOTIFY inside a
 * writing transaction takes PostgreSQL's cluster-wide notify lock at commit and holds it through
 * the commit's WAL flush, so every notifying commit waits for the one before it: commits stop
 * sharing flushes (ADR 11). Sent alone, a NOTIFY writes nothing and flushes nothing. Notices that
 * come in the same turn of the event loop, or while one is on its way, are gathered (each channel
 * and payload once) and go together.
 * A notice lost with its node is covered by the listeners' own backup looks (the relay's, the
 * executors', a wait's), as a NOTIFY lost by a reconnecting listener always was.
 */
export class PostCommitNotices {
  private pending = new Map<string, Notification>();
  private sending = false;

  constructor(
    private readonly pool: Pool,
    private readonly onError: (error: Error) => void = () => undefined,
  ) {}

  send(notifications: readonly Notification[]): void {
    for (const n of notifications) this.pending.set(`${n.channel}\u0000${n.payload}`, n);
    if (this.sending || this.pending.size === 0) return;
    this.sending = true;
    // At the end of this turn of the event loop: the appends that committed in the same turn (a
    // busy node finishes several per turn) share the statement.
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const batch = [...this.pending.values()];
        this.pending = new Map();
        await this.pool
          .query({ name: 'quarry-notify', text: 'SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS t(c, p)', values: [batch.map((n) => n.channel), batch.map((n) => n.payload)] })
          .catch((error: Error) => this.onError(error));
      }
    } finally {
      this.sending = false;
    }
  }
}
