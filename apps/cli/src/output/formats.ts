import Table from 'cli-table3';

export const FORMATS = ['table', 'csv', 'json'] as const;
export type Format = (typeof FORMATS)[number];

/** One value as written: text, or null for an SQL NULL. */
export type Cell = string | number | boolean | null;

/**
 * Writes rows in a format as they come, page by page: csv and json stream; a table needs every
 * row to size its columns, so it is drawn at the end.
 */
export interface RowWriter {
  rows(rows: Cell[][]): void;
  end(): void;
}

export function rowWriter(format: Format, columns: string[], write: (text: string) => void): RowWriter {
  switch (format) {
    case 'csv':
      write(`${columns.map(csvField).join(',')}\n`);
      return { rows: (rows) => rows.length && write(rows.map((r) => `${r.map(csvField).join(',')}\n`).join('')), end: () => undefined };
    case 'json': {
      let first = true;
      write('[');
      return {
        rows(rows) {
          if (!rows.length) return;
          const objects = rows.map((r) => JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, r[i]]))));
          write(`${first ? '\n' : ',\n'}${objects.join(',\n')}`);
          first = false;
        },
        end: () => write(first ? ']\n' : '\n]\n'),
      };
    }
    case 'table': {
      const table = new Table({ head: columns, style: { head: [], border: [] } });
      return { rows: (rows) => table.push(...rows.map((r) => r.map((cell) => (cell === null ? 'NULL' : String(cell))))), end: () => write(`${table.toString()}\n`) };
    }
  }
}

/** RFC 4180: quoted when it holds a comma, quote or line break; NULL is an empty field. */
function csvField(cell: Cell | string): string {
  if (cell === null) return '';
  const text = String(cell);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Small listings (nodes, params, a query's status) in the chosen format. */
export function printRecords(format: Format, columns: string[], rows: Cell[][], write: (text: string) => void = (t) => process.stdout.write(t)): void {
  const writer = rowWriter(format, columns, write);
  writer.rows(rows);
  writer.end();
}
