import type { Pool } from 'pg';
import type { Logger } from 'pino';

/** First wait before listening again; it doubles, up to the maximum, while reconnecting fails. */
const RECONNECT_MS = 500;
const RECONNECT_MAX_MS = 5000;

/**
 * LISTEN on channels over a dedicated connection that comes back by itself when lost (and keeps
 * trying while the database is away). A notice lost while reconnecting is the caller's to make up
 * for (each caller also re-checks on a timer).
 */
export class PgListener {
  /** Gives the listening connection up (destroyed, never back in the pool). */
  private dropCurrent?: () => void;
  private stopped = false;

  constructor(
    private readonly pool: Pool,
    private readonly channels: string[],
    private readonly onNotice: (channel: string, payload: string | undefined) => void,
    private readonly what: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const client = await this.pool.connect();
    let listening = false;
    let dropped = false;
    // Once only: a loss may be reported twice (the server's message, then the socket's end), and
    // release throws when called a second time.
    const drop = (error: Error | true) => {
      if (dropped) return false;
      dropped = true;
      if (this.dropCurrent === dropThis) this.dropCurrent = undefined;
      client.release(error);
      return true;
    };
    const dropThis = () => void drop(true);
    client.on('notification', (message) => this.onNotice(message.channel, message.payload));
    client.on('error', (error) => {
      if (!drop(error) || !listening) return;
      this.logger.warn({ err: error.message }, `${this.what}: listener lost; reconnecting`);
      this.reconnectLater();
    });
    try {
      for (const channel of this.channels) await client.query(`LISTEN ${channel}`);
    } catch (error) {
      drop(error as Error);
      throw error;
    }
    if (this.stopped || dropped) {
      drop(true);
      if (dropped && !this.stopped) this.reconnectLater();
      return;
    }
    listening = true;
    this.dropCurrent = dropThis;
  }

  stop(): void {
    this.stopped = true;
    this.dropCurrent?.();
  }

  private reconnectLater(waitMs = RECONNECT_MS): void {
    if (this.stopped) return;
    setTimeout(() => {
      if (this.stopped) return;
      this.start().catch((error: Error) => {
        const next = Math.min(2 * waitMs, RECONNECT_MAX_MS);
        this.logger.warn({ err: error.message, retryInMs: next }, `${this.what}: listener could not reconnect; trying again`);
        this.reconnectLater(next);
      });
    }, waitMs).unref();
  }
}
