import { Client } from 'pg';
import type { BenchContext } from './context';

const CHANNEL = 'bench_session_visible';

/**
 * Tells the bench when a `sessions` row has been committed, without polling: a trigger of the
 * bench's own (in the bench's own database, never in a migration) NOTIFYs each inserted row's
 * public id, which PostgreSQL delivers once the inserting transaction has committed. It costs the
 * measured path a little (a NOTIFY in the projection's commit), never helps it.
 */
export class SessionVisibility {
  private readonly waiting = new Map<string, () => void>();

  private constructor(
    private readonly listener: Client,
    private readonly reader: Client,
  ) {
    listener.on('notification', ({ payload }) => {
      const seen = payload === undefined ? undefined : this.waiting.get(payload);
      if (!seen || payload === undefined) return;
      this.waiting.delete(payload);
      seen();
    });
  }

  /** Installs the trigger and listens; `reader` confirms each announced row. */
  static async watch(ctx: BenchContext, reader: Client): Promise<SessionVisibility> {
    await reader.query(`CREATE OR REPLACE FUNCTION bench_session_visible() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_notify('${CHANNEL}', NEW.public_id::text); RETURN NULL; END $$`);
    await reader.query('CREATE TRIGGER bench_session_visible AFTER INSERT ON sessions FOR EACH ROW EXECUTE FUNCTION bench_session_visible()');
    const listener = new Client({ connectionString: ctx.databaseUrl });
    listener.on('error', () => undefined);
    await listener.connect();
    ctx.defer(() => listener.end());
    await listener.query(`LISTEN ${CHANNEL}`);
    return new SessionVisibility(listener, reader);
  }

  /** Resolves once the session's row has committed; ask before appending its event. */
  expect(publicId: string): Promise<void> {
    return new Promise((resolve) => this.waiting.set(publicId, resolve));
  }

  /** Whether another connection reads the row (it must, once announced). */
  async readable(publicId: string): Promise<boolean> {
    const { rowCount } = await this.reader.query({ name: 'bench-session-probe', text: 'SELECT 1 FROM sessions WHERE public_id = $1', values: [publicId] });
    return (rowCount ?? 0) > 0;
  }

  /** Removes the trigger, so that later phases run without it. */
  async stop(): Promise<void> {
    this.waiting.clear();
    await this.listener.query(`UNLISTEN ${CHANNEL}`);
    await this.reader.query('DROP TRIGGER bench_session_visible ON sessions');
  }
}
