import { DriverQueryError } from './driver';

/**
 * The most one value and one row of a result may hold, in bytes of their text. Every driver
 * enforces them before a value reaches the node's memory whole, so no query can make a node build
 * a string V8 cannot hold (the crash of `SELECT repeat('x', 600000000)`), in memory or persisted.
 */
export interface ResultLimits {
  maxValueBytes: number;
  maxRowBytes: number;
}

export const DEFAULT_RESULT_LIMITS: ResultLimits = { maxValueBytes: 64 * 1024 * 1024, maxRowBytes: 128 * 1024 * 1024 };

/** The settings that set the limits, named in the failure so that whoever reads it knows what to change. */
const SETTING = { value: 'QUARRY_RESULT_MAX_VALUE_BYTES', row: 'QUARRY_RESULT_MAX_ROW_BYTES' } as const;

export type ResultLimitKind = keyof typeof SETTING;

/** A value or a row over its limit: the query fails saying which, by how much, and the setting. */
export class ResultLimitExceeded extends DriverQueryError {
  constructor(
    driver: string,
    readonly limit: ResultLimitKind,
    readonly bytes: number,
    readonly maxBytes: number,
    /** False when the bytes were counted only until they passed the limit (a value inside a stream of CSV). */
    exact = true,
  ) {
    super(driver, `a ${limit} of ${exact ? '' : 'at least '}${bytes} bytes is larger than ${SETTING[limit]} (${maxBytes} bytes) allows; the query returns no result`);
    this.name = 'ResultLimitExceeded';
  }

  static of(driver: string, limits: ResultLimits, limit: ResultLimitKind, bytes: number, exact = true): ResultLimitExceeded {
    return new ResultLimitExceeded(driver, limit, bytes, limit === 'value' ? limits.maxValueBytes : limits.maxRowBytes, exact);
  }
}
