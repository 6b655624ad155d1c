import { printRecords, rowWriter } from './formats';

const written = (format: 'csv' | 'json' | 'table', pages: (string | number | boolean | null)[][][]) => {
  let text = '';
  const writer = rowWriter(format, ['a', 'b'], (t) => (text += t));
  for (const page of pages) writer.rows(page);
  writer.end();
  return text;
};

describe('result formats', () => {
  it('writes CSV as RFC 4180: quoted when needed, NULL empty, page after page', () => {
    expect(written('csv', [[['x,y', 'say "hi"']], [], [['line\nbreak', null], [1, true]]])).toBe('a,b\n"x,y","say ""hi"""\n"line\nbreak",\n1,true\n');
  });

  it('writes one JSON array of objects across pages, and [] for none', () => {
    expect(JSON.parse(written('json', [[[1, 'x']], [], [[2, null]]]))).toEqual([{ a: 1, b: 'x' }, { a: 2, b: null }]);
    expect(written('json', [[]])).toBe('[]\n');
  });

  it('draws a table with NULL shown', () => {
    const lines = written('table', [[[1, null]]]).trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatch(/│ a\s+│ b\s+│/);
    expect(lines[3]).toMatch(/│ 1\s+│ NULL\s+│/);
  });

  it('prints small listings the same way', () => {
    let text = '';
    printRecords('csv', ['k'], [['v']], (t) => (text += t));
    expect(text).toBe('k\nv\n');
  });
});
