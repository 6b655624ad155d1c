import { integerText, javaDoubleText, javaFloatText } from './java-number';
import type {
  InMemoryQueryResult,
  PersistentQueryResult,
  QueryHandleWithResultSet,
  QueryResult,
  QueryResultSetMetadata,
  ResultValue,
} from './result-types';
import { queryHandleWire, queryStatusWire } from './serialize-query';
import type { WireItem, WireObject } from './wire-tree';

/*
 * Element trees for the result types. Every list here has an @XmlElementWrapper named like its
 * items (rows/rows, values/values, columns/columns), which MOXy turns into one JSON array under
 * that name. Lens's own XML: lens-api/src/test/resources/toString/org.apache.lens.api.query.
 * InMemoryQueryResult.xml and ...QueryResultSetMetadata.xml.
 */

export const resultSetMetadataWire = (m: QueryResultSetMetadata): WireObject => ({
  fields: [
    {
      name: 'columns',
      wrapper: 'columns',
      items: m.columns.map((c) => ({
        fields: [
          { name: 'name', value: c.name },
          { name: 'type', value: c.type },
        ],
      })),
    },
  ],
});

/** A number cell's text as Lens's Java side printed it, for both XML and JSON. */
export function cellNumberText(cell: Exclude<ResultValue, { type: 'string' | 'boolean' }>): string {
  return numberText(cell.type, cell.value);
}

/** cellNumberText of a cell's type and value, for writers that keep no ResultValue per cell. */
export function numberText(type: Exclude<ResultValue['type'], 'string' | 'boolean'>, value: number | bigint | string): string {
  switch (type) {
    case 'byte':
    case 'short':
    case 'int':
    case 'long':
    case 'integer':
      return integerText(value as number | bigint);
    case 'float':
      return javaFloatText(value as number);
    case 'double':
      return javaDoubleText(value as number);
    case 'decimal':
      return value as string;
  }
}

function cellWire(cell: ResultValue | null): WireItem {
  if (cell === null) return null;
  if (cell.type === 'string' || cell.type === 'boolean') return { xsdType: cell.type, value: cell.value };
  return { xsdType: cell.type, value: { numberText: cellNumberText(cell) } };
}

export const inMemoryResultWire = (r: InMemoryQueryResult): WireObject => ({
  fields: [
    {
      name: 'rows',
      wrapper: 'rows',
      items: r.rows.map((row) => ({ fields: [{ name: 'values', wrapper: 'values', items: row.values.map(cellWire) }] })),
    },
  ],
});

export const persistentResultWire = (r: PersistentQueryResult): WireObject => ({
  fields: [
    { name: 'persistedURI', value: r.persistedURI },
    { name: 'numRows', value: r.numRows },
    { name: 'fileSize', value: r.fileSize },
    { name: 'httpResultUrl', value: r.httpResultUrl },
  ],
});

/** A result where the declared type is the abstract QueryResult: the subtype named by xsi:type. */
function queryResultWire(r: QueryResult): WireObject {
  const tree = r.type === 'inMemoryQueryResult' ? inMemoryResultWire(r) : persistentResultWire(r);
  return { ...tree, xsiType: r.type };
}

/**
 * QueryHandleWithResultSet.java binds its annotated field (queryHandle) and then its getter/setter
 * pairs in name order: result, resultMetadata, status.
 */
export const queryHandleWithResultSetWire = (q: QueryHandleWithResultSet): WireObject => ({
  fields: [
    { name: 'queryHandle', value: queryHandleWire(q.queryHandle) },
    { name: 'result', value: q.result && queryResultWire(q.result) },
    { name: 'resultMetadata', value: q.resultMetadata && resultSetMetadataWire(q.resultMetadata) },
    { name: 'status', value: q.status && queryStatusWire(q.status) },
  ],
});
