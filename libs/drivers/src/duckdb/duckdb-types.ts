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
  name?: string;
  extra_info?: { 'Estimated Cardinality'?: string };
  children?: PlanOperator[];
}

/**
 * The DuckDB cost: estimated rows summed over every operator of `EXPLAIN (FORMAT JSON)`, i.e.
 * the rows the plan expects to move (the root's own estimate would call a scan-everything
 * aggregate cheap). An operator without an estimate (a cross product, an ungrouped aggregate)
 * counts its inputs' rows: their product for a cross product, else the largest.
 */
export function estimatedRows(json: string): number {
  let total = 0;
  const rowsOut = (op: PlanOperator): number => {
    const inputs = (op.children ?? []).map(rowsOut);
    const own = Number(op.extra_info?.['Estimated Cardinality']);
    const rows = Number.isFinite(own) ? own : op.name === 'CROSS_PRODUCT' ? inputs.reduce((a, b) => a * b, 1) : Math.max(0, ...inputs);
    total += rows;
    return rows;
  };
  (JSON.parse(json) as PlanOperator[]).forEach(rowsOut);
  return total;
}
