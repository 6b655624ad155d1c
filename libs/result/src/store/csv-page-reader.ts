import { pipeline, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { ColumnMeta } from '@quarry/drivers';

export interface CsvPageRequest {
  /** Whether the file is gzip-compressed (PersistedResult.gzip). */
  gzip: boolean;
  /** Whether the first line holds the column names rather than a row (PersistedResult.header). */
  header: boolean;
  /** The result's columns: their types turn the text back into values. */
  columns: readonly ColumnMeta[];
  /** Rows to pass over first (fromindex), counting from 0. */
  from: number;
  /** The most rows to return (fetchsize). */
  size: number;
  /** A wanted row longer than this (in characters) is refused rather than gathered: QUARRY_RESULT_MAX_ROW_BYTES. */
  maxRowChars?: number;
}

/** Why a persisted result cannot be read as rows; the HTTP layer turns it into a Lens error. */
export class UnreadableResult extends Error {
  constructor(
    readonly reason: 'corrupt' | 'row-too-long',
    message: string,
  ) {
    super(message);
    this.name = 'UnreadableResult';
  }
}

/** Far beyond any row a driver may return, and below what one V8 string can hold. */
const DEFAULT_MAX_ROW_CHARS = 256 * 1024 * 1024;

/**
 * Rows `from` to `from + size` of a CSV result as CsvResultSink wrote it, typed by column.
 * Reads only as far as the page: rows before it are counted, not parsed, and reading stops once
 * the page is full, so memory follows the page and page 1 of a huge file costs a chunk or two.
 * The source is destroyed when the promise settles, whatever the outcome.
 */
export async function readCsvPage(source: Readable, request: CsvPageRequest): Promise<unknown[][]> {
  const { from, size, columns } = request;
  const page: unknown[][] = [];
  if (!isCount(from) || !isCount(size)) {
    source.destroy();
    throw new RangeError(`a page needs whole, non-negative from and size; got from ${from}, size ${size}`);
  }
  if (size === 0) {
    source.destroy();
    return page;
  }
  const input = request.gzip ? pipeline(source, createGunzip(), () => undefined) : source;
  const decoder = new StringDecoder('utf8');
  const splitter = new CsvRowSplitter(from + (request.header ? 1 : 0), request.maxRowChars ?? DEFAULT_MAX_ROW_CHARS);
  const onRow = (line: string) => {
    page.push(parseRow(line, columns, from + page.length));
    return page.length < size;
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
      if (!splitter.feed(text, onRow)) return page;
    }
    if (!splitter.feed(decoder.end(), onRow)) return page;
    splitter.finish();
    return page;
  } catch (error) {
    throw damagedFileOr(error);
  } finally {
    input.destroy();
    source.destroy();
  }
}

/** zlib's codes (Z_DATA_ERROR, Z_BUF_ERROR: not gzip, or cut short) say the file is damaged, not the disk. */
function damagedFileOr(error: unknown): unknown {
  if (String((error as { code?: unknown }).code).startsWith('Z_')) return new UnreadableResult('corrupt', `persisted result is truncated or corrupt: ${(error as Error).message}`);
  return error;
}

/**
 * Every row of a CSV result from `from` on, typed as readCsvPage types them, in batches of about
 * `size` rows (a batch ends with the chunk that filled it): memory follows a batch and a chunk,
 * and the next chunk is read only when the consumer asks for the next batch (back-pressure).
 */
export async function* csvRowBatches(source: Readable, request: CsvPageRequest): AsyncGenerator<unknown[][]> {
  const { from, size, columns } = request;
  if (!isCount(from) || !isCount(size) || size === 0) {
    source.destroy();
    throw new RangeError(`batches need a whole, non-negative from and a positive size; got from ${from}, size ${size}`);
  }
  const input = request.gzip ? pipeline(source, createGunzip(), () => undefined) : source;
  const decoder = new StringDecoder('utf8');
  const splitter = new CsvRowSplitter(from + (request.header ? 1 : 0), request.maxRowChars ?? DEFAULT_MAX_ROW_CHARS);
  let index = from;
  let batch: unknown[][] = [];
  const onRow = (line: string) => {
    batch.push(parseRow(line, columns, index++));
    return true;
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      splitter.feed(typeof chunk === 'string' ? chunk : decoder.write(chunk), onRow);
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
    splitter.feed(decoder.end(), onRow);
    splitter.finish();
    if (batch.length > 0) yield batch;
  } catch (error) {
    throw damagedFileOr(error);
  } finally {
    input.destroy();
    source.destroy();
  }
}

const isCount = (n: number) => Number.isSafeInteger(n) && n >= 0;

const QUOTE = 34;
const COMMA = 44;

/**
 * Cuts CSV text, fed chunk by chunk, into rows: a line feed ends a row unless it is inside quotes.
 * Flipping in and out of quotes on every quote is enough to know that (a doubled quote flips
 * twice), so rows are found with indexOf alone. The first `skip` rows are only counted; the text
 * of the others is handed over whole, however the chunks cut it.
 */
class CsvRowSplitter {
  private inQuotes = false;
  /** Whether the current row has begun: text after the last line feed. */
  private rowBegun = false;
  /** The current row's text from earlier chunks, kept once the row is wanted. */
  private pieces: string[] = [];
  private piecesLength = 0;

  constructor(
    private skip: number,
    private readonly maxRowChars: number,
  ) {}

  /** Hands each wanted row that ends in `text` to `onRow`; false once `onRow` says it has enough. */
  feed(text: string, onRow: (line: string) => boolean): boolean {
    let start = 0;
    // The next quote and line feed at or after the scan position, each found once and reused.
    let quote = text.indexOf('"');
    let newline = text.indexOf('\n');
    for (;;) {
      if (this.inQuotes) {
        if (quote < 0) break;
        this.inQuotes = false;
        const after = quote + 1;
        quote = text.indexOf('"', after);
        if (newline >= 0 && newline < after) newline = text.indexOf('\n', after);
      } else if (quote >= 0 && (newline < 0 || quote < newline)) {
        this.inQuotes = true;
        quote = text.indexOf('"', quote + 1);
      } else if (newline >= 0) {
        const line = this.endRow(text, start, newline);
        if (line !== undefined && !onRow(line)) return false;
        start = newline + 1;
        newline = text.indexOf('\n', start);
      } else {
        break;
      }
    }
    if (start < text.length) {
      this.rowBegun = true;
      if (this.skip === 0) this.keep(text.slice(start));
    }
    return true;
  }

  /** At the end of the file: every row must have ended, as the sink ends each with a line feed. */
  finish(): void {
    if (this.inQuotes) throw new UnreadableResult('corrupt', 'persisted result is truncated or corrupt: it ends inside a quoted field');
    if (this.rowBegun) throw new UnreadableResult('corrupt', 'persisted result is truncated or corrupt: its last row has no line feed');
  }

  /** Part of a wanted row, gathered only while the row stays within the limit. */
  private keep(piece: string): void {
    this.piecesLength += piece.length;
    if (this.piecesLength > this.maxRowChars) throw this.tooLong();
    this.pieces.push(piece);
  }

  private tooLong(): UnreadableResult {
    return new UnreadableResult(
      'row-too-long',
      `a row of the persisted result is longer than ${this.maxRowChars} characters (QUARRY_RESULT_MAX_ROW_BYTES): read it whole with GET .../httpresultset`,
    );
  }

  /** The row's text without its line end, or undefined while rows are being skipped. */
  private endRow(text: string, start: number, end: number): string | undefined {
    this.rowBegun = false;
    if (this.skip > 0) {
      this.skip--;
      return undefined;
    }
    let line = text.slice(start, end);
    if (this.pieces.length > 0) {
      this.keep(line);
      line = this.pieces.join('');
      this.pieces = [];
      this.piecesLength = 0;
    } else if (line.length > this.maxRowChars) {
      throw this.tooLong();
    }
    // A CR before the row's LF is outside quotes (the LF is), so it is a CRLF row end, not data.
    return line.endsWith('\r') ? line.slice(0, -1) : line;
  }
}

function corrupt(index: number, what: string): UnreadableResult {
  return new UnreadableResult('corrupt', `persisted result is corrupt at row ${index}: ${what}`);
}

/** One row's values; a quoted field is text even when empty, an unquoted empty one is null. */
function parseRow(line: string, columns: readonly ColumnMeta[], index: number): unknown[] {
  if (columns.length === 0 && line === '') return [];
  const values: unknown[] = [];
  let at = 0;
  for (;;) {
    const quoted = line.charCodeAt(at) === QUOTE;
    let text: string;
    let end: number;
    if (quoted) {
      text = '';
      let from = at + 1;
      for (;;) {
        const close = line.indexOf('"', from);
        if (close < 0) throw corrupt(index, 'a quoted field does not end');
        if (line.charCodeAt(close + 1) === QUOTE) {
          text += line.slice(from, close + 1);
          from = close + 2;
          continue;
        }
        text += line.slice(from, close);
        end = close + 1;
        break;
      }
      if (end < line.length && line.charCodeAt(end) !== COMMA) throw corrupt(index, 'text after a closing quote');
    } else {
      const comma = line.indexOf(',', at);
      end = comma < 0 ? line.length : comma;
      text = line.slice(at, end);
      if (text.includes('"')) throw corrupt(index, 'a quote inside an unquoted field');
    }
    values.push(quoted || text !== '' ? typedValue(text, columns[values.length], index) : null);
    if (end >= line.length) break;
    at = end + 1;
  }
  if (values.length !== columns.length) throw corrupt(index, `${values.length} fields for ${columns.length} columns`);
  return values;
}

/** The value the driver gave, near enough for toRows: numbers a double holds, BIGINT and DECIMAL as exact text. */
function typedValue(text: string, column: ColumnMeta | undefined, index: number): unknown {
  switch (column?.type) {
    case 'TINYINT':
    case 'SMALLINT':
    case 'INT':
    case 'FLOAT':
    case 'DOUBLE':
      return Number(text);
    case 'BOOLEAN':
      // true/false as Quarry writes them; t/f as PostgreSQL's COPY does.
      if (text === 'true' || text === 't') return true;
      if (text === 'false' || text === 'f') return false;
      throw corrupt(index, `"${text}" in BOOLEAN column ${column.name}`);
    default:
      return text;
  }
}
