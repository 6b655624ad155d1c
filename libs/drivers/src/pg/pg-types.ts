import { isoTimestamp, jsonNumber } from '../values';

/** PostgreSQL type OIDs (pg_type) as Lens column types; anything else reads as STRING. */
const LENS_TYPES: Record<number, string> = {
  16: 'BOOLEAN',
  17: 'BINARY',
  20: 'BIGINT',
  21: 'SMALLINT',
  23: 'INT',
  700: 'FLOAT',
  701: 'DOUBLE',
  1700: 'DECIMAL',
  1082: 'DATE',
  1114: 'TIMESTAMP',
  1184: 'TIMESTAMP',
};

export function lensTypeForOid(oid: number): string {
  return LENS_TYPES[oid] ?? 'STRING';
}

const asText = (text: string) => text;

/**
 * JSON-friendly values straight from PostgreSQL's text: numbers where a double holds them
 * exactly, int8 and numeric as strings (no precision lost), dates and timestamps as ISO text
 * (no Date, so no local time zone shift); every other type keeps PostgreSQL's own text.
 */
const PARSERS: Record<number, (text: string) => unknown> = {
  16: (text) => text === 't',
  21: Number,
  23: Number,
  700: jsonNumber,
  701: jsonNumber,
  1114: isoTimestamp,
  1184: isoTimestamp,
};

/** For pg's `types` option: replaces node-pg's defaults (Date objects, parsed JSON, arrays). */
export const PG_VALUE_TYPES = {
  getTypeParser: (oid: number) => PARSERS[oid] ?? asText,
};
