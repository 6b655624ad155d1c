import { DriverQueryError } from './driver';

/**
 * The most one value and one row of a result may hold, in bytes of their text. Every driver
 * enforces them before a value reaches the node's memory whole, so no query can make a node build
 * a string V8 cannot hold (the crash of `SELECT repeat('x', 600000000)`), in memory or persisted.
 * The batch limit bounds many rows read at once, each within the row limit, the same way.
 */
export interface ResultLimits {
  maxValueBytes: number;
  maxRowBytes: number;
  /**
   * The most rows one read from the engine may gather together (pg: one cursor FETCH, which
   * node-pg holds whole before it returns). DuckDB's host bounds its replies itself (about 8 MiB).
   */
  maxBatchBytes: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_RESULT_LIMITS: ResultLimits = { maxValueBytes: 64 * MiB, maxRowBytes: 128 * MiB, maxBatchBytes: 256 * MiB };

/** Each limit: what it bounds, its field, and the setting named in the failure so that whoever reads it knows what to change. */
const LIMIT = {
  value: { what: 'value', max: 'maxValueBytes', setting: 'QUARRY_RESULT_MAX_VALUE_BYTES' },
  row: { what: 'row', max: 'maxRowBytes', setting: 'QUARRY_RESULT_MAX_ROW_BYTES' },
  batch: { what: 'batch of rows', max: 'maxBatchBytes', setting: 'QUARRY_RESULT_MAX_BATCH_BYTES' },
} as const satisfies Record<string, { what: string; max: keyof ResultLimits; setting: string }>;

export type ResultLimitKind = keyof typeof LIMIT;

/** A value, a row or one read's rows over its limit: the query fails saying which, by how much, and the setting. */
export class ResultLimitExceeded extends DriverQueryError {
  constructor(
    driver: string,
    readonly limit: ResultLimitKind,
    readonly bytes: number,
    readonly maxBytes: number,
    /** False when the bytes were counted only until they passed the limit (a value inside a stream of CSV, a batch cut short). */
    exact = true,
  ) {
    super(driver, `a ${LIMIT[limit].what} of ${exact ? '' : 'at least '}${bytes} bytes is larger than ${LIMIT[limit].setting} (${maxBytes} bytes) allows; the query returns no result`);
    this.name = 'ResultLimitExceeded';
  }

  static of(driver: string, limits: ResultLimits, limit: ResultLimitKind, bytes: number, exact = true): ResultLimitExceeded {
    return new ResultLimitExceeded(driver, limit, bytes, limits[LIMIT[limit].max], exact);
  }
}
