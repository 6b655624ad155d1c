import { sqlBigint, sqlBool, sqlInt, sqlIntArray, sqlText, sqlTextArray } from './literals';

describe('SQL literals', () => {
  it('quotes text, doubling quotes and escaping backslashes', () => {
    expect(sqlText("it's")).toBe("'it''s'");
    expect(sqlText('a\\b')).toBe(" E'a\\\\b'");
    expect(sqlTextArray(['session-1', "x'); DROP TABLE t; --"])).toBe("ARRAY['session-1', 'x''); DROP TABLE t; --']::text[]");
    expect(sqlTextArray([])).toBe('ARRAY[]::text[]');
  });

  it('writes numbers only when they are integers', () => {
    expect(sqlInt(42)).toBe('42');
    expect(sqlIntArray([1, 2])).toBe('ARRAY[1, 2]::int[]');
    expect(() => sqlInt(1.5)).toThrow('not an integer');
    expect(() => sqlInt(Number.NaN)).toThrow('not an integer');
    expect(sqlBigint('9007199254740993')).toBe('9007199254740993::bigint');
    expect(() => sqlBigint('1; DROP TABLE t')).toThrow();
    expect(sqlBool(true)).toBe('TRUE');
  });
});
