import type { GrpcColumnValues, GrpcRowBatch } from './quarry-messages';

interface ColumnMeta {
  name: string;
  type: string;
}

export type ColumnField = 'bools' | 'ints' | 'doubles' | 'strings';

/** The ColumnValues field each Lens column type's values go in (proto's comment on ColumnValues). */
export function fieldOf(type: string): ColumnField {
  switch (type) {
    case 'BOOLEAN':
      return 'bools';
    case 'TINYINT':
    case 'SMALLINT':
    case 'INT':
    case 'BIGINT':
      return 'ints';
    case 'FLOAT':
    case 'DOUBLE':
      return 'doubles';
    default:
      return 'strings';
  }
}

/** A value as its field holds it: BIGINTs a double cannot hold stay exact text (proto-loader reads it as an int64). */
const VALUE_OF: Record<ColumnField, (value: NonNullable<unknown>) => unknown> = {
  bools: (value) => value === true || value === 'true' || value === 't',
  ints: (value) => (typeof value === 'number' ? value : String(value)),
  doubles: (value) => Number(value),
  strings: (value) => (value instanceof Date ? value.toISOString() : String(value)),
};
const NULL_SLOT: Record<ColumnField, unknown> = { bools: false, ints: 0, doubles: 0, strings: '' };

/**
 * Rows (as the drivers and the result store give them) as one RowBatch, column by column: packed
 * numbers and booleans, a null flag per row only for a column that has a null.
 */
export function rowBatchOf(rows: readonly unknown[][], columns: readonly ColumnMeta[], fromIndex: number, withColumns: boolean): GrpcRowBatch {
  const values = columns.map((column, c) => {
    const field = fieldOf(column.type);
    const valueOf = VALUE_OF[field];
    const out: unknown[] = new Array(rows.length);
    let nulls: boolean[] | undefined;
    for (let r = 0; r < rows.length; r++) {
      const value = rows[r][c];
      if (value === null || value === undefined) {
        nulls ??= new Array<boolean>(rows.length).fill(false);
        nulls[r] = true;
        out[r] = NULL_SLOT[field];
      } else {
        out[r] = valueOf(value);
      }
    }
    const column_: GrpcColumnValues = { nulls: nulls ?? [], bools: [], ints: [], doubles: [], strings: [] };
    (column_[field] as unknown[]) = out;
    return column_;
  });
  return { columns: withColumns ? columns.map(({ name, type }) => ({ name, type })) : [], fromIndex, rowCount: rows.length, values };
}
