import { RESULT_COLUMN_TYPES, serialize } from '@quarry/contracts';
import { driverRowsOf, toRows } from './lens-query.mapper';

/** A driver's value for each column type that is not written as a string. */
const SAMPLE: Record<string, unknown> = { BOOLEAN: 't', TINYINT: -8, SMALLINT: '300', INT: 2147483647, BIGINT: '9007199254740993', FLOAT: 0.1, DOUBLE: 1e10, DECIMAL: '12.50' };

describe('a page of driver rows', () => {
  // Every Lens column type, and one Lens has no cell for (written as a string).
  const columns = [...RESULT_COLUMN_TYPES, 'ARRAY<INT>'].map((type, i) => ({ name: `c${i}`, type }));
  const rows: unknown[][] = [
    columns.map((c, i) => SAMPLE[c.type] ?? (i % 2 ? { n: i } : `v${i} "<é>"`)),
    columns.map(() => null),
    [...columns.map(() => undefined), 'past the columns', 7],
    [],
  ];

  it('is written as the same bytes from the rows as through toRows, in JSON and XML', () => {
    for (const mediaType of ['application/json', 'application/xml'] as const) {
      expect(serialize({ kind: 'driverRows', value: driverRowsOf(rows, columns) }, mediaType)).toBe(
        serialize({ kind: 'inMemoryQueryResult', value: { rows: toRows(rows, columns) } }, mediaType),
      );
    }
  });

  it('types each column as Lens did', () => {
    const typed = toRows([['9007199254740993', '12.50', 1, 2]], [
      { name: 'a', type: 'BIGINT' },
      { name: 'b', type: 'DECIMAL' },
      { name: 'c', type: 'INT' },
    ]);
    expect(typed[0].values).toEqual([
      { type: 'long', value: 9007199254740993n },
      { type: 'decimal', value: '12.50' },
      { type: 'int', value: 1 },
      { type: 'string', value: '2' },
    ]);
  });
});
