import { fieldOf, PROTO_LEN, ProtoWriter, zigzag, type ColumnField } from '@quarry/contracts';
import type { ColumnMeta } from '@quarry/drivers';
import { UnreadableResult } from './csv-page-reader';

/*
 * CSV bytes, as CsvResultSink or an engine's COPY writes them, straight into RowBatch column values
 * in protobuf's wire format: no row arrays, no strings for text values (their UTF-8 bytes are
 * copied), so no garbage per value. It gives what reading the CSV back (readCsvPage) and encoding
 * the rows (rowBatchOf, encodeRowBatch) give, which the unit test checks value by value.
 */

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;
const MINUS = 45;
/** ColumnValues' field number of each kind of value (quarry.proto). */
const FIELD_NUMBER: Record<ColumnField, number> = { bools: 2, ints: 3, doubles: 4, strings: 5 };
const NULLS_FIELD = 1;

function corrupt(index: number, what: string): UnreadableResult {
  return new UnreadableResult('corrupt', `persisted result is corrupt at row ${index}: ${what}`);
}

/** One column's values of the batch under way: its field's bytes, and the rows that are null. */
class ColumnBytes {
  readonly values = new ProtoWriter();
  nullRows: number[] = [];

  constructor(
    readonly column: ColumnMeta,
    readonly kind: ColumnField,
  ) {}

  /** ColumnValues: the null flags (only when there is a null), then the values' field. */
  encode(rows: number): ProtoWriter {
    const out = new ProtoWriter();
    if (this.nullRows.length > 0) {
      const flags = new Uint8Array(rows);
      for (const row of this.nullRows) flags[row] = 1;
      out.tag(NULLS_FIELD, PROTO_LEN);
      out.varint(rows);
      out.bytes(flags, 0, rows);
    }
    if (this.kind === 'strings') {
      out.bytes(this.values.buf, 0, this.values.pos);
    } else if (this.values.pos > 0) {
      out.tag(FIELD_NUMBER[this.kind], PROTO_LEN);
      out.varint(this.values.pos);
      out.bytes(this.values.buf, 0, this.values.pos);
    }
    return out;
  }

  reset(): void {
    this.values.pos = 0;
    this.nullRows = [];
  }
}

/** A batch's rows, encoded as they are fed; `take` hands over the RowBatch and starts the next. */
export class CsvRowBatchEncoder {
  private readonly columns: ColumnBytes[];
  /** Rows (of the result) before the batch under way, and in it. */
  private fromIndex = 0;
  rows = 0;
  /** CSV bytes of the batch's rows. */
  bytes = 0;
  /** The start of a row that has not ended yet, kept until its end comes, and whether it ends inside quotes. */
  private pending: Buffer[] = [];
  private pendingInQuotes = false;
  private skip: number;
  private readonly savedPos: number[];
  private readonly savedNulls: number[];

  constructor(columns: readonly ColumnMeta[], header: boolean) {
    this.columns = columns.map((column) => new ColumnBytes(column, fieldOf(column.type)));
    this.savedPos = new Array<number>(columns.length).fill(0);
    this.savedNulls = new Array<number>(columns.length).fill(0);
    this.skip = header ? 1 : 0;
  }

  /** Encodes every row that ends in `chunk`, calling `onRowEnd` after each (the caller may `take` the batch there). */
  feed(chunk: Buffer, onRowEnd: () => void): void {
    let at = 0;
    if (this.pending.length > 0) {
      // A row begun in earlier chunks: its end is looked for in this one alone, the quotes counted
      // on, so a long row is gathered once rather than read again with every chunk.
      const end = this.endOfPendingRow(chunk);
      if (end < 0) {
        this.pending.push(Buffer.from(chunk));
        return;
      }
      const row = Buffer.concat([...this.pending, chunk.subarray(0, end)]);
      this.pending = [];
      if (this.next(row, 0) !== row.length) throw new UnreadableResult('corrupt', `persisted result is corrupt at row ${this.fromIndex + this.rows}: its quotes do not pair`);
      onRowEnd();
      at = end;
    }
    while (at < chunk.length) {
      const end = this.next(chunk, at);
      if (end < 0) break;
      at = end;
      onRowEnd();
    }
    if (at < chunk.length) {
      const rest = Buffer.from(chunk.subarray(at));
      this.pending = [rest];
      this.pendingInQuotes = false;
      this.endOfPendingRow(rest);
    }
  }

  /** At the end of the CSV: every row must have ended, as the sink ends each with a line feed. */
  finish(): void {
    if (this.pending.length > 0) throw new UnreadableResult('corrupt', 'persisted result is truncated or corrupt: its last row has no line feed');
  }

  /** The row (or header line) at `at`: where the next begins, or -1 when it has not ended in `buf`. */
  private next(buf: Buffer, at: number): number {
    return this.skip > 0 ? this.skipRow(buf, at) : this.row(buf, at);
  }

  /** Where the pending row ends in `chunk` (after its line feed), or -1; the quote state carried over. */
  private endOfPendingRow(chunk: Buffer): number {
    let quoted = this.pendingInQuotes;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === QUOTE) quoted = !quoted;
      else if (c === LF && !quoted) return i + 1;
    }
    this.pendingInQuotes = quoted;
    return -1;
  }

  /** The batch's RowBatch (from_index, row_count, values), and a new batch begun. */
  take(): Buffer {
    const out = new ProtoWriter();
    if (this.fromIndex !== 0) {
      out.tag(2, 0);
      out.varint(this.fromIndex);
    }
    if (this.rows !== 0) {
      out.tag(3, 0);
      out.varint(this.rows);
    }
    for (const column of this.columns) {
      out.embed(4, column.encode(this.rows));
      column.reset();
    }
    this.fromIndex += this.rows;
    this.rows = 0;
    this.bytes = 0;
    return Buffer.from(out.buf.subarray(0, out.pos));
  }

  /** Passes over the header line; -1 when it has not ended yet. */
  private skipRow(buf: Buffer, at: number): number {
    let quoted = false;
    for (let i = at; i < buf.length; i++) {
      const c = buf[i];
      if (c === QUOTE) quoted = !quoted;
      else if (c === LF && !quoted) {
        this.skip--;
        return i + 1;
      }
    }
    return -1;
  }

  /** Encodes the row starting at `at`; returns where the next begins, or -1 (nothing kept) when it has not ended yet. */
  private row(buf: Buffer, at: number): number {
    const columns = this.columns;
    const index = this.fromIndex + this.rows;
    if (columns.length === 0) {
      const lf = buf.indexOf(LF, at);
      if (lf < 0) return -1;
      if (lf > at && !(lf === at + 1 && buf[at] === CR)) throw corrupt(index, `fields for 0 columns`);
      return this.ended(at, lf + 1);
    }
    for (let c = 0; c < columns.length; c++) {
      this.savedPos[c] = columns[c].values.pos;
      this.savedNulls[c] = columns[c].nullRows.length;
    }
    let i = at;
    for (let c = 0; ; c++) {
      if (c >= columns.length) throw corrupt(index, `more fields than the ${columns.length} columns`);
      let next: number;
      if (buf[i] === QUOTE) {
        next = this.quoted(buf, i, columns[c], index);
      } else {
        let j = i;
        let byte = 0;
        for (; j < buf.length; j++) {
          byte = buf[j];
          if (byte === COMMA || byte === LF) break;
          if (byte === QUOTE) throw corrupt(index, 'a quote inside an unquoted field');
        }
        next = j;
        if (j < buf.length) this.value(columns[c], buf, i, byte === LF && j > i && buf[j - 1] === CR ? j - 1 : j, false, index);
      }
      if (next < 0 || next >= buf.length) return this.unfinished();
      if (buf[next] === COMMA) {
        i = next + 1;
        continue;
      }
      if (c !== columns.length - 1) throw corrupt(index, `${c + 1} fields for ${columns.length} columns`);
      return this.ended(at, next + 1);
    }
  }

  /** A quoted field from its opening quote: encoded, and where it ends (-1 when not yet). */
  private quoted(buf: Buffer, open: number, column: ColumnBytes, index: number): number {
    let from = open + 1;
    let pieces: Buffer[] | undefined;
    for (;;) {
      const close = buf.indexOf(QUOTE, from);
      if (close < 0 || close + 1 >= buf.length) return -1;
      if (buf[close + 1] === QUOTE) {
        (pieces ??= []).push(buf.subarray(from, close + 1));
        from = close + 2;
        continue;
      }
      let after = close + 1;
      if (buf[after] === CR) {
        if (after + 1 >= buf.length) return -1;
        if (buf[after + 1] === LF) after++;
      }
      if (buf[after] !== COMMA && buf[after] !== LF) throw corrupt(index, 'text after a closing quote');
      if (pieces) {
        pieces.push(buf.subarray(from, close));
        const text = Buffer.concat(pieces);
        this.value(column, text, 0, text.length, true, index);
      } else {
        this.value(column, buf, from, close, true, index);
      }
      return after;
    }
  }

  /** One value, bytes start to end of `buf`; an unquoted empty one is null. */
  private value(column: ColumnBytes, buf: Buffer, start: number, end: number, quoted: boolean, index: number): void {
    const out = column.values;
    if (!quoted && start === end) {
      column.nullRows.push(this.rows);
      if (column.kind === 'bools' || column.kind === 'ints') out.varint(0);
      else if (column.kind === 'doubles') out.double(0);
      else {
        out.tag(5, PROTO_LEN);
        out.varint(0);
      }
      return;
    }
    switch (column.kind) {
      case 'ints':
        if (!plainInteger(out, buf, start, end)) zigzag(out, column.column.type === 'BIGINT' ? buf.toString('utf8', start, end) : Number(buf.toString('utf8', start, end)));
        return;
      case 'doubles':
        out.double(Number(buf.toString('latin1', start, end)));
        return;
      case 'bools':
        out.varint(booleanOf(buf, start, end, column.column, index) ? 1 : 0);
        return;
      default:
        out.tag(5, PROTO_LEN);
        out.varint(end - start);
        out.bytes(buf, start, end);
    }
  }

  private ended(start: number, end: number): number {
    this.rows++;
    this.bytes += end - start;
    return end;
  }

  /** The row under way has not ended in what was fed: its values are taken back, to be read again whole. */
  private unfinished(): number {
    for (let c = 0; c < this.columns.length; c++) {
      this.columns[c].values.pos = this.savedPos[c];
      this.columns[c].nullRows.length = this.savedNulls[c];
    }
    return -1;
  }
}

/** Up to 15 digits, maybe after a minus: their zigzag varint written, true. Anything else: false. */
function plainInteger(out: ProtoWriter, buf: Buffer, start: number, end: number): boolean {
  let i = start;
  const negative = buf[i] === MINUS;
  if (negative) i++;
  if (i === end || end - i > 15) return false;
  let n = 0;
  for (; i < end; i++) {
    const digit = buf[i] - 48;
    if (digit < 0 || digit > 9) return false;
    n = n * 10 + digit;
  }
  out.varint(n === 0 ? 0 : negative ? n * 2 - 1 : n * 2);
  return true;
}

/** true/false as Quarry writes them; t/f as PostgreSQL's COPY does. */
function booleanOf(buf: Buffer, start: number, end: number, column: ColumnMeta, index: number): boolean {
  const text = buf.toString('latin1', start, end);
  if (text === 'true' || text === 't') return true;
  if (text === 'false' || text === 'f') return false;
  throw corrupt(index, `"${buf.toString('utf8', start, end)}" in BOOLEAN column ${column.name}`);
}
