import type { QueryHandle } from './lens-types';
import type { QueryStatus } from './query-types';

/*
 * Result answers: GET queryapi/queries/{handle}/resultsetmetadata and .../resultset, and the
 * EXECUTE_WITH_TIMEOUT answer. Sources under lens-api/src/main/java/org/apache/lens/api/query/.
 */

/** ResultColumnType.java: the column types Lens reported (Hive's type names, upper-cased). */
export const RESULT_COLUMN_TYPES = [
  'BOOLEAN',
  'TINYINT',
  'SMALLINT',
  'INT',
  'BIGINT',
  'FLOAT',
  'DOUBLE',
  'STRING',
  'TIMESTAMP',
  'BINARY',
  'ARRAY',
  'MAP',
  'STRUCT',
  'UNIONTYPE',
  'USER_DEFINED',
  'DECIMAL',
  'NULL',
  'DATE',
  'VARCHAR',
  'CHAR',
] as const;
export type ResultColumnType = (typeof RESULT_COLUMN_TYPES)[number];

/** ResultColumn.java. */
export interface ResultColumn {
  name: string;
  type: ResultColumnType;
}

/** QueryResultSetMetadata.java: root `queryResultSetMetadata`, columns under a `columns` wrapper. */
export interface QueryResultSetMetadata {
  columns: ResultColumn[];
}

/**
 * The XML Schema type a cell is sent as. ResultRow.values is a List<Object>, so each cell carries
 * its type: xsi:type="xs:int" in XML, {"type": "int", "value": 1} in JSON. These are the names
 * JAXB and MOXy both give the Java classes Lens's drivers put there (String, Boolean, Byte, Short,
 * Integer, Long, BigInteger, Float, Double, BigDecimal). Hive sent FLOAT as double and DECIMAL,
 * TIMESTAMP, DATE, CHAR, VARCHAR and complex types as strings.
 */
export const RESULT_VALUE_TYPES = ['string', 'boolean', 'byte', 'short', 'int', 'long', 'integer', 'float', 'double', 'decimal'] as const;
export type ResultValueType = (typeof RESULT_VALUE_TYPES)[number];

export type ResultValue =
  | { type: 'string'; value: string }
  | { type: 'boolean'; value: boolean }
  /** Whole numbers; a bigint keeps a long past 2^53 exact. */
  | { type: 'byte' | 'short' | 'int' | 'long' | 'integer'; value: number | bigint }
  /** Written in Java's form ("1.0", "1.0E10"); NaN and infinities as NaN, INF, -INF. */
  | { type: 'float' | 'double'; value: number }
  /** Plain decimal text such as "12.50", written as given (a bare number in JSON when it is one). */
  | { type: 'decimal'; value: string };

/**
 * ResultRow.java: `values` under a `values` wrapper. null is an SQL NULL: Quarry writes it as
 * xsi:nil in XML and null in JSON so the cells stay in column order. (Lens dropped null items,
 * which shifted the later cells; lens-ui and the Python client already accept a null cell.)
 */
export interface ResultRow {
  values: (ResultValue | null)[];
}

/** InMemoryQueryResult.java: root `inMemoryQueryResult`, rows under a `rows` wrapper. */
export interface InMemoryQueryResult {
  rows: ResultRow[];
}

/** PersistentQueryResult.java: root `persistentQueryResult`. */
export interface PersistentQueryResult {
  persistedURI: string;
  numRows?: number;
  /** Bytes. */
  fileSize?: number;
  /** Where GET .../httpresultset serves the file. */
  httpResultUrl?: string;
}

/** QueryResult.java is abstract; where it is declared (QueryHandleWithResultSet.result) the subtype goes by xsi:type. */
export type QueryResult =
  | ({ type: 'inMemoryQueryResult' } & InMemoryQueryResult)
  | ({ type: 'persistentQueryResult' } & PersistentQueryResult);

/**
 * QueryHandleWithResultSet.java, the `data` of EXECUTE_WITH_TIMEOUT. Lens filled result,
 * resultMetadata and status when the query finished in time, and status alone otherwise.
 */
export interface QueryHandleWithResultSet {
  queryHandle: QueryHandle;
  result?: QueryResult;
  resultMetadata?: QueryResultSetMetadata;
  status?: QueryStatus;
}
