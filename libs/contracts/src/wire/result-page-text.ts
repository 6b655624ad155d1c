import type { InMemoryQueryResult, ResultValue } from './result-types';
import { cellNumberText } from './serialize-result';
import { escapeXml, jsonNumberText, XML_DECLARATION, XS, XSI } from './wire-tree';

/*
 * GET .../resultset's rows written straight to text, the hot path of paging through a result: the
 * same bytes as the element tree (inMemoryResultWire through toJson/toXml) would give, without a
 * tree of objects per cell and row. serialize-result.unit.spec.ts holds both to the same output.
 */

/** Each cell type's JSON up to its value: MOXy's {"type": "<xsd type>", "value": ...}. */
const jsonPrefix = (type: ResultValue['type']) => `{"type":${JSON.stringify(type)},"value":`;
const JSON_PREFIX = Object.fromEntries(
  (['string', 'boolean', 'byte', 'short', 'int', 'long', 'integer', 'float', 'double', 'decimal'] as const).map((type) => [type, jsonPrefix(type)]),
) as Record<ResultValue['type'], string>;

function cellJson(cell: ResultValue | null): string {
  if (cell === null) return 'null';
  const prefix = JSON_PREFIX[cell.type];
  switch (cell.type) {
    case 'string':
      return `${prefix}${JSON.stringify(cell.value)}}`;
    case 'boolean':
      return `${prefix}${cell.value ? 'true' : 'false'}}`;
    default:
      return `${prefix}${jsonNumberText(cellNumberText(cell))}}`;
  }
}

/** `{"inMemoryQueryResult":{"rows":[{"values":[...]}, ...]}}`; empty lists left out, as MOXy does. */
export function inMemoryResultJson(result: InMemoryQueryResult): string {
  const { rows } = result;
  if (rows.length === 0) return '{"inMemoryQueryResult":{}}';
  let out = '{"inMemoryQueryResult":{"rows":[';
  for (let r = 0; r < rows.length; r++) {
    if (r > 0) out += ',';
    const values = rows[r].values;
    if (values.length === 0) {
      out += '{}';
      continue;
    }
    out += '{"values":[';
    for (let v = 0; v < values.length; v++) out += (v > 0 ? ',' : '') + cellJson(values[v]);
    out += ']}';
  }
  return `${out}]}}`;
}

// The root declares no namespace, so every cell declares the ones it uses (as JAXB writes it).
const NIL_CELL = `<values xsi:nil="true" xmlns:xsi="${XSI}"/>`;
const xmlOpen = (type: ResultValue['type']) => `<values xsi:type="xs:${type}" xmlns:xs="${XS}" xmlns:xsi="${XSI}">`;
const XML_OPEN = Object.fromEntries(Object.keys(JSON_PREFIX).map((type) => [type, xmlOpen(type as ResultValue['type'])])) as Record<ResultValue['type'], string>;

function cellXml(cell: ResultValue | null): string {
  if (cell === null) return NIL_CELL;
  const text = cell.type === 'string' ? cell.value : cell.type === 'boolean' ? String(cell.value) : cellNumberText(cell);
  return `${XML_OPEN[cell.type]}${escapeXml(text)}</values>`;
}

/** `<inMemoryQueryResult><rows><rows><values>...</values></rows>...</rows></inMemoryQueryResult>`. */
export function inMemoryResultXml(result: InMemoryQueryResult): string {
  const { rows } = result;
  if (rows.length === 0) return `${XML_DECLARATION}<inMemoryQueryResult/>`;
  let out = `${XML_DECLARATION}<inMemoryQueryResult><rows>`;
  for (const { values } of rows) {
    if (values.length === 0) {
      out += '<rows/>';
      continue;
    }
    out += '<rows><values>';
    for (const cell of values) out += cellXml(cell);
    out += '</values></rows>';
  }
  return `${out}</rows></inMemoryQueryResult>`;
}
