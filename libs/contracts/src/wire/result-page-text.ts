import type { InMemoryQueryResult, ResultRow, ResultValue } from './result-types';
import { numberText } from './serialize-result';
import { escapeXml, jsonNumberText, XML_DECLARATION, XS, XSI } from './wire-tree';

/*
 * GET .../resultset's rows written straight to text, the hot path of paging through a result: the
 * same bytes as the element tree (inMemoryResultWire through toJson/toXml) would give, without a
 * tree of objects per cell and row. serialize-result.unit.spec.ts holds both to the same output.
 * A page can come as ResultRows (a ResultValue per cell) or as the rows a driver gave with each
 * column's typing (DriverRows): the latter builds no object per cell at all.
 */

type CellType = ResultValue['type'];
type ValueOf<T extends CellType> = (ResultValue & { type: T })['value'];

/** A column's cells: their type, and how a driver's value (never null) becomes a cell's value. */
export type CellColumn = { [T in CellType]: { type: T; value: (raw: NonNullable<unknown>) => ValueOf<T> } }[CellType];

/** Rows as a driver gave them (null or undefined is an SQL NULL) and how each column is typed. */
export interface DriverRows {
  rows: readonly (readonly unknown[])[];
  columns: readonly CellColumn[];
}

/** Cells past the last typed column, and columns of a type Lens had no cell for: strings. */
export const STRING_COLUMN: CellColumn = { type: 'string', value: (raw) => (typeof raw === 'string' ? raw : JSON.stringify(raw)) };

const WHOLE_NUMBER_TYPES: ReadonlySet<CellType> = new Set(['byte', 'short', 'int', 'long', 'integer']);

/** A cell's value as JSON. */
function valueJson(type: CellType, value: ValueOf<CellType>): string {
  if (type === 'string') return JSON.stringify(value);
  if (type === 'boolean') return value ? 'true' : 'false';
  const text = numberText(type, value as number | bigint | string);
  // A whole number's text is plain digits, always a JSON number: only the others are checked.
  return WHOLE_NUMBER_TYPES.has(type) ? text : jsonNumberText(text);
}

/** A cell's value as XML text, before escaping. */
function valueText(type: CellType, value: ValueOf<CellType>): string {
  if (type === 'string') return value as string;
  if (type === 'boolean') return String(value);
  return numberText(type, value as number | bigint | string);
}

/** Each cell type's JSON up to its value: MOXy's {"type": "<xsd type>", "value": ...}. */
const jsonPrefix = (type: CellType) => `{"type":${JSON.stringify(type)},"value":`;
const JSON_PREFIX = Object.fromEntries(
  (['string', 'boolean', 'byte', 'short', 'int', 'long', 'integer', 'float', 'double', 'decimal'] as const).map((type) => [type, jsonPrefix(type)]),
) as Record<CellType, string>;

// The root declares no namespace, so every cell declares the ones it uses (as JAXB writes it).
const NIL_CELL = `<values xsi:nil="true" xmlns:xsi="${XSI}"/>`;
const xmlOpen = (type: CellType) => `<values xsi:type="xs:${type}" xmlns:xs="${XS}" xmlns:xsi="${XSI}">`;
const XML_OPEN = Object.fromEntries(Object.keys(JSON_PREFIX).map((type) => [type, xmlOpen(type as CellType)])) as Record<CellType, string>;

const cellJson = (cell: ResultValue | null): string => (cell === null ? 'null' : `${JSON_PREFIX[cell.type]}${valueJson(cell.type, cell.value)}}`);
const cellXml = (cell: ResultValue | null): string => (cell === null ? NIL_CELL : `${XML_OPEN[cell.type]}${escapeXml(valueText(cell.type, cell.value))}</values>`);

/** A driver's values in a column, as that column's cells are written: chosen once per page. */
type DriverCell = (raw: unknown) => string;

function driverCellJson({ type, value }: CellColumn): DriverCell {
  const prefix = JSON_PREFIX[type];
  const valueOf = value as (raw: NonNullable<unknown>) => ValueOf<CellType>;
  return (raw) => (raw === null || raw === undefined ? 'null' : `${prefix}${valueJson(type, valueOf(raw))}}`);
}

function driverCellXml({ type, value }: CellColumn): DriverCell {
  const open = XML_OPEN[type];
  const valueOf = value as (raw: NonNullable<unknown>) => ValueOf<CellType>;
  return (raw) => (raw === null || raw === undefined ? NIL_CELL : `${open}${escapeXml(valueText(type, valueOf(raw)))}</values>`);
}

/** How one page's rows are walked: how many cells a row has and each cell's text. */
interface PageCells<Row> {
  rows: readonly Row[];
  width: (row: Row) => number;
  cell: (row: Row, index: number) => string;
}

const resultRows = (rows: readonly ResultRow[], write: (cell: ResultValue | null) => string): PageCells<ResultRow> => ({
  rows,
  width: (row) => row.values.length,
  cell: (row, i) => write(row.values[i]),
});

function driverRows({ rows, columns }: DriverRows, writer: (column: CellColumn) => DriverCell): PageCells<readonly unknown[]> {
  const cells = columns.map(writer);
  const past = writer(STRING_COLUMN);
  return { rows, width: (row) => row.length, cell: (row, i) => (cells[i] ?? past)(row[i]) };
}

/**
 * A page's text is handed on in pieces of about this many characters, each ending with a row. A
 * page written as one string is a rope of ~100,000 parts that lives through young-generation
 * collections and is then flattened at once: that cost several times the writing itself (10–15
 * ms of CPU for a 10,000-row page). Pieces this size are flattened (encoded) while small and young.
 */
export const PAGE_PIECE_CHARS = 64 * 1024;

/** Receives a page's text piece by piece, in order. */
export type PieceSink = (piece: string) => void;

/** `{"inMemoryQueryResult":{"rows":[{"values":[...]}, ...]}}`; empty lists left out, as MOXy does. */
function pageJson<Row>({ rows, width, cell }: PageCells<Row>, emit: PieceSink): void {
  if (rows.length === 0) return emit('{"inMemoryQueryResult":{}}');
  let out = '{"inMemoryQueryResult":{"rows":[';
  for (let r = 0; r < rows.length; r++) {
    if (r > 0) out += ',';
    const row = rows[r];
    const cells = width(row);
    if (cells === 0) out += '{}';
    else {
      out += '{"values":[';
      for (let v = 0; v < cells; v++) out += (v > 0 ? ',' : '') + cell(row, v);
      out += ']}';
    }
    if (out.length >= PAGE_PIECE_CHARS) {
      emit(out);
      out = '';
    }
  }
  emit(`${out}]}}`);
}

/** `<inMemoryQueryResult><rows><rows><values>...</values></rows>...</rows></inMemoryQueryResult>`. */
function pageXml<Row>({ rows, width, cell }: PageCells<Row>, emit: PieceSink): void {
  if (rows.length === 0) return emit(`${XML_DECLARATION}<inMemoryQueryResult/>`);
  let out = `${XML_DECLARATION}<inMemoryQueryResult><rows>`;
  for (const row of rows) {
    const cells = width(row);
    if (cells === 0) out += '<rows/>';
    else {
      out += '<rows><values>';
      for (let v = 0; v < cells; v++) out += cell(row, v);
      out += '</values></rows>';
    }
    if (out.length >= PAGE_PIECE_CHARS) {
      emit(out);
      out = '';
    }
  }
  emit(`${out}</rows></inMemoryQueryResult>`);
}

/** A page's pieces as one string (for callers that want the whole text). */
function wholeText(write: (emit: PieceSink) => void): string {
  const pieces: string[] = [];
  write((piece) => pieces.push(piece));
  return pieces.join('');
}

export const inMemoryResultJson = (result: InMemoryQueryResult): string => wholeText((emit) => pageJson(resultRows(result.rows, cellJson), emit));
export const inMemoryResultXml = (result: InMemoryQueryResult): string => wholeText((emit) => pageXml(resultRows(result.rows, cellXml), emit));
/** The same bytes as inMemoryResultJson of the ResultRows the rows would make. */
export const driverRowsJson = (page: DriverRows): string => wholeText((emit) => writeDriverRowsJson(page, emit));
export const driverRowsXml = (page: DriverRows): string => wholeText((emit) => writeDriverRowsXml(page, emit));
/** driverRowsJson's text, piece by piece (see PAGE_PIECE_CHARS). */
export const writeDriverRowsJson = (page: DriverRows, emit: PieceSink): void => pageJson(driverRows(page, driverCellJson), emit);
export const writeDriverRowsXml = (page: DriverRows, emit: PieceSink): void => pageXml(driverRows(page, driverCellXml), emit);
