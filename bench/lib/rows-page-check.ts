import type { HttpAnswer } from './http-client';
import { inMemoryRowsFrom } from './lens-api';

/*
 * Checking JSON pages of rowsQuery's rows (id g, label 'row ' || g, half g * 0.5, g from 1) as
 * GET …/resultset writes them: `{"inMemoryQueryResult":{"rows":[{"values":[…]},…]}}`, or
 * `{"inMemoryQueryResult":{}}` past the last row. A full JSON.parse of a 10,000-row page costs the
 * client ~15 ms of CPU, as much as the server spends writing it, so a paged read checks each page
 * in two steps: at once, what the next request depends on (framed as a page, how many rows, the
 * first and last row parsed and checked; ~2 ms), and later, off the clock, the whole body parsed
 * and every row's values checked.
 */

const EMPTY_PAGE = '{"inMemoryQueryResult":{}}';
const PAGE_OPENING = '{"inMemoryQueryResult":{"rows":[';
const PAGE_CLOSING = ']}}';
/** Every row of these pages opens so (three cells, never an empty row); no label contains it. */
const ROW_OPENING = '{"values":[';
const COMMA = ','.charCodeAt(0);

/** The row rowsQuery makes for id `id`, as plain values. */
function expectedRow(id: number): unknown[] {
  return [id, `row ${id}`, id * 0.5];
}

function sameRow(values: unknown[], id: number): boolean {
  const expected = expectedRow(id);
  return values.length === expected.length && values.every((value, i) => (typeof expected[i] === 'number' ? Number(value) === expected[i] : value === expected[i]));
}

/** One row's JSON (`{"values":[…]}`) as plain values. */
function rowValues(json: string): unknown[] {
  const row = JSON.parse(json) as { values?: ({ value?: unknown } | null)[] };
  return (row.values ?? []).map((cell) => cell?.value ?? null);
}

/**
 * The quick check of a page that should hold rows `from + 1`… (ids): its rows counted, the first
 * and last parsed and checked. Returns how many rows it holds; throws on anything else.
 */
export function quickPageCheck(answer: HttpAnswer, from: number, what: string): number {
  const body = answer.body;
  if (answer.status !== 200) throw new Error(`${what}: HTTP ${answer.status} ${body.slice(0, 300)}`);
  if (body === EMPTY_PAGE) return 0;
  if (!body.startsWith(PAGE_OPENING) || !body.endsWith(PAGE_CLOSING)) throw new Error(`${what}: not a page of rows: ${body.slice(0, 200)} … ${body.slice(-100)}`);
  const firstRow = PAGE_OPENING.length;
  if (!body.startsWith(ROW_OPENING, firstRow)) throw new Error(`${what}: no row where the page's rows begin: ${body.slice(0, 200)}`);
  let lastRow = firstRow;
  let rows = 0;
  for (let at = body.indexOf(ROW_OPENING, firstRow); at >= 0; at = body.indexOf(ROW_OPENING, at + ROW_OPENING.length)) {
    if (rows > 0 && body.charCodeAt(at - 1) !== COMMA) throw new Error(`${what}: row ${rows + 1} does not follow a comma at offset ${at}`);
    lastRow = at;
    rows++;
  }
  const firstEnd = rows > 1 ? body.indexOf(`,${ROW_OPENING}`, firstRow) : body.length - PAGE_CLOSING.length;
  const first = rowValues(body.slice(firstRow, firstEnd));
  const last = rowValues(body.slice(lastRow, body.length - PAGE_CLOSING.length));
  if (!sameRow(first, from + 1) || !sameRow(last, from + rows)) {
    throw new Error(`${what}: ${rows} rows from ${JSON.stringify(first)} to ${JSON.stringify(last)}, expected ids ${from + 1}..${from + rows}`);
  }
  return rows;
}

/** The full check of a page the quick check passed: the whole body parsed, every row's values checked. */
export function fullPageCheck(answer: HttpAnswer, from: number, rows: number, what: string): void {
  const page = inMemoryRowsFrom(answer);
  if (page.length !== rows) throw new Error(`${what}: parsed ${page.length} rows, counted ${rows}`);
  page.forEach((values, i) => {
    if (!sameRow(values, from + i + 1)) throw new Error(`${what}: row ${i} is ${JSON.stringify(values)}, expected ${JSON.stringify(expectedRow(from + i + 1))}`);
  });
}
