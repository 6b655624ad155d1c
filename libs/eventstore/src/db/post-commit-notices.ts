import type { Pool } from 'pg';
import type { Notification } from '../store/event-store';
import { RoundTripGatherer } from './round-trip-gatherer';

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
  // At the end of this turn of the event loop: the appends that committed in the same turn (a
  // busy node finishes several per turn) share the statement.
  private readonly gatherer = new RoundTripGatherer<Notification>((waiting) => this.flush(waiting), setImmediate);

  constructor(
    private readonly pool: Pool,
    private readonly onError: (error: Error) => void = () => undefined,
  ) {}

  send(notifications: readonly Notification[]): void {
    for (const n of notifications) this.gatherer.add(n);
  }

  private async flush(waiting: Notification[]): Promise<void> {
    // Each channel and payload once.
    const batch = [...new Map(waiting.map((n) => [`${n.channel}\u0000${n.payload}`, n])).values()];
    await this.pool
      .query({ name: 'quarry-notify', text: 'SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS t(c, p)', values: [batch.map((n) => n.channel), batch.map((n) => n.payload)] })
      .catch((error: Error) => this.onError(error));
  }
}
