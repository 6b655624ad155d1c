import { costEstimate } from './cost';
import { DriverQueryError } from './driver';
import { estimatedRows, fixRows, lensTypeForDuckDb, valueFix } from './duckdb/duckdb-types';
import { readPgPlan } from './pg/pg-plan';
import { lensTypeForOid, PG_VALUE_TYPES } from './pg/pg-types';
import { initScripts, unsupportedResourceWarnings } from './resources';
import { sessionSpec } from './test-support/sessions';
import { isoTimestamp } from './values';

describe('isoTimestamp', () => {
  it.each([
    ['2024-02-03 04:05:06', '2024-02-03T04:05:06'],
    ['2024-02-03 04:05:06.123456', '2024-02-03T04:05:06.123456'],
    ['2024-02-03 04:05:06.5+00', '2024-02-03T04:05:06.5Z'],
    ['2024-02-03 04:05:06+02', '2024-02-03T04:05:06+02:00'],
    ['2024-02-03 04:05:06-03:30', '2024-02-03T04:05:06-03:30'],
    ['2024-02-03 04:05:06+0530', '2024-02-03T04:05:06+05:30'],
    ['infinity', 'infinity'],
    ['0044-03-15 12:00:00 BC', '0044-03-15 12:00:00 BC'],
  ])('%s reads %s', (text, iso) => expect(isoTimestamp(text)).toBe(iso));
});

describe('pg types', () => {
  const parse = (oid: number, text: string) => PG_VALUE_TYPES.getTypeParser(oid)(text);

  it('names Lens types by OID, STRING for the rest', () => {
    expect([16, 17, 20, 21, 23, 700, 701, 1700, 1082, 1114, 1184, 25, 1043, 114, 2950].map(lensTypeForOid)).toEqual([
      'BOOLEAN', 'BINARY', 'BIGINT', 'SMALLINT', 'INT', 'FLOAT', 'DOUBLE', 'DECIMAL', 'DATE', 'TIMESTAMP', 'TIMESTAMP', 'STRING', 'STRING', 'STRING', 'STRING',
    ]);
  });

  it('keeps precision: int8 and numeric stay text, safe numbers become numbers', () => {
    expect([parse(20, '9007199254740993'), parse(1700, '0.10'), parse(23, '42'), parse(701, '1.5'), parse(701, 'Infinity'), parse(16, 'f')]).toEqual([
      '9007199254740993', '0.10', 42, 1.5, 'Infinity', false,
    ]);
    expect([parse(1082, '2024-02-03'), parse(1114, '2024-02-03 04:05:06'), parse(114, '{"a":1}'), parse(1007, '{1,2}')]).toEqual([
      '2024-02-03', '2024-02-03T04:05:06', '{"a":1}', '{1,2}',
    ]);
  });
});

describe('duckdb types', () => {
  it('names Lens types by DuckDB type id, STRING for the rest', () => {
    expect(['INTEGER', 'BIGINT', 'HUGEINT', 'DECIMAL', 'VARCHAR', 'TIMESTAMP_TZ', 'BLOB', 'LIST', 'UUID'].map(lensTypeForDuckDb)).toEqual([
      'INT', 'BIGINT', 'DECIMAL', 'DECIMAL', 'STRING', 'TIMESTAMP', 'BINARY', 'STRING', 'STRING',
    ]);
  });

  it('fixes values to read like the pg driver', () => {
    const fixes = ['BIGINT', 'TIMESTAMP', 'STRING', 'INT'].map(valueFix);
    expect(fixRows([[4, '2024-02-03 04:05:06+00', [1, 2], 7], [null, null, 'x', null]], fixes)).toEqual([
      ['4', '2024-02-03T04:05:06Z', '[1,2]', 7],
      [null, null, 'x', null],
    ]);
  });

  it('estimates the rows a plan moves, a cross product as the product of its inputs', () => {
    const scan = (rows: number) => ({ name: 'SEQ_SCAN', extra_info: { 'Estimated Cardinality': String(rows) } });
    const plan = [{ name: 'UNGROUPED_AGGREGATE', extra_info: {}, children: [{ name: 'CROSS_PRODUCT', extra_info: {}, children: [scan(1000), scan(50)] }] }];
    // scans 1,000 + 50, the product 50,000, the aggregate over it 50,000
    expect(estimatedRows(JSON.stringify(plan))).toBe(101_050);
  });
});

describe('pg plans and costs', () => {
  it('reads the total cost and the relations scanned', () => {
    const plan = [{ Plan: { 'Node Type': 'Hash Join', 'Total Cost': 12.5, Plans: [{ 'Node Type': 'Seq Scan', 'Relation Name': 'sales', 'Total Cost': 5 }, { 'Node Type': 'Seq Scan', 'Relation Name': 'regions', Schema: 'public', 'Total Cost': 1 }, { 'Node Type': 'Seq Scan', 'Relation Name': 'sales', 'Total Cost': 5 }] } }];
    expect(readPgPlan(JSON.stringify(plan))).toEqual({ totalCost: 12.5, tables: ['sales', 'public.regions'] });
  });

  it('puts costs in Lens buckets', () => {
    expect([1, 5e3, 5e5, 5e8].map((cost) => costEstimate(cost).costType)).toEqual(['VERY_LOW', 'LOW', 'MEDIUM', 'HIGH']);
  });
});

describe('session resources', () => {
  it('runs .sql resources in order and warns about jars and archives', () => {
    const session = sessionSpec('s', 'v1', { 'a.sql': 'SELECT 1', 'b.txt': 'x', 'C.SQL': 'SELECT 2' }, ['u.jar']);
    expect(initScripts('pg', session)).toEqual([
      { path: 'a.sql', sql: 'SELECT 1' },
      { path: 'C.SQL', sql: 'SELECT 2' },
    ]);
    expect(unsupportedResourceWarnings('pg', session)).toEqual(['pg cannot load jar resources: u.jar']);
  });

  it('refuses an init script whose content was not loaded', () => {
    const session = sessionSpec('s');
    session.resources.push({ type: 'file', path: 'init.sql', sha256: 'x' });
    expect(() => initScripts('duckdb', session)).toThrow(new DriverQueryError('duckdb', 'init script init.sql has no content'));
  });
});
