import type { ColumnMeta, RowSink } from '@quarry/drivers';
import type { ResultWriter } from './result-store';

/**
 * RFC 4180: quote a field that holds a comma, a quote or a line break; double inner quotes. The
 * empty string is quoted too, so that it reads back apart from null, which is an empty field.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text === '' || /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Streams a result into the store as CSV, batch by batch: memory holds one batch, not the result. */
export class CsvResultSink implements RowSink {
  columnsSeen: ColumnMeta[] = [];
  rowCount = 0;

  constructor(
    private readonly writer: Pick<ResultWriter, 'write'>,
    private readonly header: boolean,
  ) {}

  async columns(columns: ColumnMeta[]): Promise<void> {
    this.columnsSeen = columns;
    if (this.header) await this.writer.write(`${columns.map((c) => csvField(c.name)).join(',')}\n`);
  }

  async rows(batch: unknown[][]): Promise<void> {
    let text = '';
    for (const row of batch) text += `${row.map(csvField).join(',')}\n`;
    this.rowCount += batch.length;
    await this.writer.write(text);
  }
}
