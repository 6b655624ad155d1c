import type { Projection, Sql } from '../index';

/**
 * A projection for tests of the machinery: it counts what it applies per stream and throws on
 * any version that is not the next one, so a duplicate or a reordering fails loudly.
 */
export const tallyProjection: Projection = {
  name: 'tally',
  families: ['session'],
  tables: ['stream_tally'],
  async apply(tx: Sql, event) {
    const { rows } = await tx.query<{ last_version: number }>('SELECT last_version FROM stream_tally WHERE stream_id = $1', [event.streamId]);
    const last = rows[0]?.last_version ?? 0;
    if (event.streamVersion !== last + 1) {
      throw new Error(`tally: ${event.streamId} got version ${event.streamVersion} after ${last}`);
    }
    await tx.query(
      `INSERT INTO stream_tally (stream_id, applied, last_version) VALUES ($1, 1, $2)
       ON CONFLICT (stream_id) DO UPDATE SET applied = stream_tally.applied + 1, last_version = $2`,
      [event.streamId, event.streamVersion],
    );
  },
};

export async function createTallyTable(sql: Sql): Promise<void> {
  await sql.query('CREATE TABLE stream_tally (stream_id text PRIMARY KEY, applied integer NOT NULL, last_version integer NOT NULL)');
}

export async function tallyRows(sql: Sql): Promise<{ stream_id: string; applied: number; last_version: number }[]> {
  return (await sql.query<{ stream_id: string; applied: number; last_version: number }>('SELECT * FROM stream_tally ORDER BY stream_id')).rows;
}
