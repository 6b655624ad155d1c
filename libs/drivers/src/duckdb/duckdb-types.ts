import { isoTimestamp } from '../values';

/** DuckDB type ids (by name, as DuckDBTypeId spells them) as Lens column types; others: STRING. */
const LENS_TYPES: Record<string, string> = {
  BOOLEAN: 'BOOLEAN',
  TINYINT: 'SMALLINT',
  UTINYINT: 'SMALLINT',
  SMALLINT: 'SMALLINT',
  USMALLINT: 'INT',
  INTEGER: 'INT',
  UINTEGER: 'BIGINT',
  BIGINT: 'BIGINT',
  UBIGINT: 'BIGINT',
  HUGEINT: 'DECIMAL',
  UHUGEINT: 'DECIMAL',
  BIGNUM: 'DECIMAL',
  DECIMAL: 'DECIMAL',
  FLOAT: 'FLOAT',
  DOUBLE: 'DOUBLE',
  VARCHAR: 'STRING',
  BLOB: 'BINARY',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
  TIMESTAMP_S: 'TIMESTAMP',
  TIMESTAMP_MS: 'TIMESTAMP',
  TIMESTAMP_NS: 'TIMESTAMP',
  TIMESTAMP_TZ: 'TIMESTAMP',
};

export function lensTypeForDuckDb(typeName: string): string {
  return LENS_TYPES[typeName] ?? 'STRING';
}

type Fix = (value: unknown) => unknown;

/**
 * DuckDB's JSON values made to read as the pg driver's: BIGINT as strings, timestamps as ISO
 * text, and nested values (lists, structs, maps) of STRING columns as JSON text.
 */
export function valueFix(lensType: string): Fix | undefined {
  switch (lensType) {
    case 'BIGINT':
      return (value) => (typeof value === 'number' ? String(value) : value);
    case 'TIMESTAMP':
      return (value) => (typeof value === 'string' ? isoTimestamp(value) : value);
    case 'STRING':
      return (value) => (value === null || typeof value === 'string' ? value : JSON.stringify(value));
    default:
      return undefined;
  }
}

export function fixRows(rows: unknown[][], fixes: (Fix | undefined)[]): unknown[][] {
  if (fixes.every((fix) => !fix)) return rows;
  for (const row of rows) {
    fixes.forEach((fix, i) => {
      if (fix && row[i] !== null) row[i] = fix(row[i]);
    });
  }
  return rows;
}

interface PlanOperator {
  extra_info?: { 'Estimated Cardinality'?: string };
  children?: PlanOperator[];
}

/**
 * The DuckDB cost: estimated rows summed over every operator of `EXPLAIN (FORMAT JSON)`, i.e.
 * the rows the plan expects to move. The root's own estimate would call a scan-everything
 * aggregate cheap.
 */
export function estimatedRows(json: string): number {
  const sum = (op: PlanOperator): number =>
    (Number(op.extra_info?.['Estimated Cardinality']) || 0) + (op.children ?? []).reduce((total, child) => total + sum(child), 0);
  return (JSON.parse(json) as PlanOperator[]).reduce((total, op) => total + sum(op), 0);
}
