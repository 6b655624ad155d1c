import { Inject, Injectable } from '@nestjs/common';
import type { ColumnMeta } from '@quarry/drivers';
import { DB_POOL } from '@quarry/platform';
import type { Pool, PoolClient } from 'pg';

export interface StoredResult {
  columns: ColumnMeta[];
  rows: unknown[][];
  rowCount: number;
}

/** Result rows kept in PostgreSQL, so every node serves them; written with QuerySucceeded. */
@Injectable()
export class QueryResults {
  constructor(@Inject(DB_POOL) private readonly pool: Pool) {}

  static async save(tx: PoolClient, queryHandle: string, result: StoredResult): Promise<void> {
    await tx.query('INSERT INTO query_results (query_handle, columns, rows, row_count) VALUES ($1, $2, $3, $4)', [
      queryHandle,
      JSON.stringify(result.columns),
      JSON.stringify(result.rows),
      result.rowCount,
    ]);
  }

  async columns(queryHandle: string): Promise<ColumnMeta[] | undefined> {
    const { rows } = await this.pool.query<{ columns: ColumnMeta[] }>('SELECT columns FROM query_results WHERE query_handle = $1', [queryHandle]);
    return rows[0]?.columns;
  }

  /** Rows `from` (0-based) on, at most `size` of them, in order. */
  async page(queryHandle: string, from: number, size: number): Promise<StoredResult | undefined> {
    const { rows } = await this.pool.query<{ columns: ColumnMeta[]; page: unknown[][] | null; row_count: number }>(
      `SELECT columns, row_count,
              (SELECT jsonb_agg(r.value ORDER BY r.ordinality) FROM jsonb_array_elements(rows) WITH ORDINALITY r
               WHERE r.ordinality > $2 AND r.ordinality <= $2 + $3) AS page
       FROM query_results WHERE query_handle = $1`,
      [queryHandle, from, size],
    );
    const row = rows[0];
    return row && { columns: row.columns, rows: row.page ?? [], rowCount: row.row_count };
  }
}
