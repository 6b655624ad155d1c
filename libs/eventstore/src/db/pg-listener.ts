import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';

/**
 * LISTEN on channels over a dedicated connection that comes back by itself when lost. A notice
 * lost while reconnecting is the caller's to make up for (each caller also re-checks on a timer).
 */
export class PgListener {
  private client?: PoolClient;
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
    client.on('notification', (message) => this.onNotice(message.channel, message.payload));
    client.on('error', (error) => {
      this.logger.warn({ err: error.message }, `${this.what}: listener lost; reconnecting`);
      this.client = undefined;
      client.release(error);
      if (!this.stopped) setTimeout(() => void this.start().catch(() => undefined), 500).unref();
    });
    for (const channel of this.channels) await client.query(`LISTEN ${channel}`);
    this.client = client;
  }

  stop(): void {
    this.stopped = true;
    this.client?.release(true);
    this.client = undefined;
  }
}
