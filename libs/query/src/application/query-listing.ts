import { Inject, Injectable } from '@nestjs/common';
import { DB_POOL } from '@quarry/platform';
import type { Pool } from 'pg';

export interface QueryFilter {
  /** The caller; undefined lists every user's queries (administrators only). */
  userName?: string;
  states?: string[];
  queryName?: string;
  driver?: string;
  fromDate?: Date;
  toDate?: Date;
}

const LIMIT = 10_000;

/** GET /queryapi/queries from the `queries` projection. Every filter is a bind parameter. */
@Injectable()
export class QueryListing {
  constructor(@Inject(DB_POOL) private readonly pool: Pool) {}

  async handles(filter: QueryFilter): Promise<string[]> {
    const { rows } = await this.pool.query<{ query_handle: string }>(
      `SELECT query_handle FROM queries
       WHERE ($1::text IS NULL OR user_name = $1)
         AND ($2::text[] IS NULL OR status = ANY($2))
         AND ($3::text IS NULL OR query_name ILIKE '%' || $3 || '%')
         AND ($4::text IS NULL OR driver = $4)
         AND ($5::timestamptz IS NULL OR submitted_at >= $5)
         AND ($6::timestamptz IS NULL OR submitted_at < $6)
       ORDER BY submitted_at LIMIT ${LIMIT}`,
      [filter.userName ?? null, filter.states ?? null, filter.queryName ?? null, filter.driver ?? null, filter.fromDate ?? null, filter.toDate ?? null],
    );
    return rows.map((r) => r.query_handle);
  }
}
