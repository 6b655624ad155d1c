import { CsvResultSink, csvField } from './csv-result-sink';
import type { ResultWriter } from './result-store';

describe('CSV results', () => {
  it('quotes only what needs quoting, as RFC 4180 says', () => {
    expect(['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\r', 42, true].map(csvField)).toEqual(['plain', '"a,b"', '"say ""hi"""', '"two\nlines"', '"cr\r"', '42', 'true']);
  });

  it('writes null as an empty field and the empty string as a quoted one, so they read back apart', () => {
    expect([null, undefined, ''].map(csvField)).toEqual(['', '', '""']);
  });

  it('writes the header only when asked, then the rows batch by batch', async () => {
    for (const header of [true, false]) {
      const chunks: string[] = [];
      const writer = { write: async (c: string) => void chunks.push(c) } as ResultWriter;
      const sink = new CsvResultSink(writer, header);
      await sink.columns([{ name: 'id', type: 'INT' }, { name: 'name', type: 'STRING' }]);
      await sink.rows([[1, 'a'], [2, 'b,c']]);
      await sink.rows([[3, null], [4, '']]);
      expect(chunks.join('')).toBe(`${header ? 'id,name\n' : ''}1,a\n2,"b,c"\n3,\n4,""\n`);
      expect(sink.rowCount).toBe(4);
    }
  });
});
