import type { ColumnMeta, RowSink } from '@quarry/drivers';

export class ResultTooLarge extends Error {}

/** Gathers a result up to a row limit; past it, says so instead of holding more. */
export class ResultCollector implements RowSink {
  columnsSeen: ColumnMeta[] = [];
  readonly collected: unknown[][] = [];

  constructor(private readonly maxRows: number) {}

  columns(columns: ColumnMeta[]): void {
    this.columnsSeen = columns;
  }

  rows(batch: unknown[][]): void {
    if (this.collected.length + batch.length > this.maxRows) {
      throw new ResultTooLarge(`the result has more than ${this.maxRows} rows (QUARRY_RESULT_MAX_ROWS); narrow the query or raise the limit`);
    }
    for (const row of batch) this.collected.push(row);
  }
}
