import type { Projection, Sql } from '../index';

/**
 * A projection for tests of the machinery: it counts what it applies per stream (in `table`) and
 * throws on any version that is not the next one, so a duplicate or a reordering fails loudly.
 */
export function tallyProjectionOf(name: string, table: string): Projection {
  return {
    name,
    families: ['session'],
    tables: [table],
    async apply(tx: Sql, event) {
      const { rows } = await tx.query<{ last_version: number }>(`SELECT last_version FROM ${table} WHERE stream_id = $1`, [event.streamId]);
      const last = rows[0]?.last_version ?? 0;
      if (event.streamVersion !== last + 1) {
        throw new Error(`${name}: ${event.streamId} got version ${event.streamVersion} after ${last}`);
      }
      await tx.query(
        `INSERT INTO ${table} (stream_id, applied, last_version) VALUES ($1, 1, $2)
         ON CONFLICT (stream_id) DO UPDATE SET applied = ${table}.applied + 1, last_version = $2`,
        [event.streamId, event.streamVersion],
      );
    },
  };
}

export const tallyProjection = tallyProjectionOf('tally', 'stream_tally');

export async function createTallyTable(sql: Sql, table = 'stream_tally'): Promise<void> {
  await sql.query(`CREATE TABLE ${table} (stream_id text PRIMARY KEY, applied integer NOT NULL, last_version integer NOT NULL)`);
}

export async function tallyRows(sql: Sql, table = 'stream_tally'): Promise<{ stream_id: string; applied: number; last_version: number }[]> {
  return (await sql.query<{ stream_id: string; applied: number; last_version: number }>(`SELECT * FROM ${table} ORDER BY stream_id`)).rows;
}

/**
 * The tally as a projection that only writes (`writesOnly`: its statements go with the batch's
 * COMMIT). Its table's check (`applied = last_version`) fails any duplicate, gap or reordering
 * after a stream's first event.
 */
export function writesOnlyTallyProjectionOf(name: string, table: string): Projection {
  return {
    name,
    families: ['session'],
    tables: [table],
    writesOnly: true,
    async apply(tx: Sql, event) {
      await tx.query(
        // The row proposed for a new stream is checked even when it conflicts, so it must pass the check itself.
        `INSERT INTO ${table} (stream_id, applied, last_version) VALUES ($1, $2, $2)
         ON CONFLICT (stream_id) DO UPDATE SET applied = ${table}.applied + 1, last_version = $2`,
        [event.streamId, event.streamVersion],
      );
    },
  };
}

/** The table of writesOnlyTallyProjectionOf, with its check. */
export async function createCheckedTallyTable(sql: Sql, table: string): Promise<void> {
  await sql.query(`CREATE TABLE ${table} (stream_id text PRIMARY KEY, applied integer NOT NULL, last_version integer NOT NULL, CHECK (applied = last_version))`);
}
