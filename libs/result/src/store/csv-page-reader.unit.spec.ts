import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { ColumnMeta } from '@quarry/drivers';
import { csvRowBatches, readCsvPage, UnreadableResult, type CsvPageRequest } from './csv-page-reader';
import { CsvResultSink } from './csv-result-sink';
import type { ResultWriter } from './result-store';

/** What CsvResultSink writes into a store, as the bytes the store would hold. */
async function persisted(columns: ColumnMeta[], rows: unknown[][], options: { header: boolean; gzip: boolean }): Promise<Buffer> {
  const chunks: (string | Buffer)[] = [];
  const writer: ResultWriter = {
    write: async (chunk) => void chunks.push(chunk),
    commit: async () => ({ path: 'memory.csv', bytes: 0 }),
    abort: async () => undefined,
  };
  const sink = new CsvResultSink(writer, options.header);
  await sink.columns(columns);
  // Two batches, as a driver hands them over.
  await sink.rows(rows.slice(0, 3));
  await sink.rows(rows.slice(3));
  const text = Buffer.from(chunks.join(''));
  return options.gzip ? gzipSync(text) : text;
}

/** The bytes as a stream of `size`-byte chunks: boundaries fall anywhere, mid-character included. */
function chunked(bytes: Buffer, size = bytes.length): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return Readable.from(chunks);
}

/** A stream that makes its chunks only when asked, counting them: shows how far a read went. */
function lazy(count: number, chunk: (index: number) => Buffer) {
  let pulled = 0;
  const stream = new Readable({
    highWaterMark: 1,
    read() {
      this.push(pulled < count ? chunk(pulled++) : null);
    },
  });
  return { stream, pulled: () => pulled };
}

const read = (bytes: Buffer, request: Partial<CsvPageRequest> & Pick<CsvPageRequest, 'columns'>, chunkSize?: number) =>
  readCsvPage(chunked(bytes, chunkSize), { gzip: false, header: false, from: 0, size: 10_000, ...request });

const TRICKY_COLUMNS: ColumnMeta[] = [
  { name: 'id', type: 'INT' },
  { name: 'text', type: 'STRING' },
  { name: 'ratio', type: 'DOUBLE' },
  { name: 'big', type: 'BIGINT' },
  { name: 'amount', type: 'DECIMAL' },
  { name: 'flag', type: 'BOOLEAN' },
  { name: 'at', type: 'TIMESTAMP' },
];

// Values as the drivers give them: BIGINT and DECIMAL as text, NaN as the engine's text.
const TRICKY_ROWS: unknown[][] = [
  [1, 'plain', 1.5, '9007199254740993', '12.50', true, '2024-02-03T04:05:06.789Z'],
  [2, 'a,b', -0.25, '-9223372036854775808', '-0.000000000000000001', false, null],
  [3, 'say "hi"', 'NaN', '0', '99999999999999999999999999999.99', null, '2024-02-03T04:05:06'],
  [4, '"', 1e21, null, null, true, ''],
  [5, '""', null, '42', '0', false, 'x'],
  [6, 'two\nlines', 0, '1', '1', true, 'y'],
  [7, 'crlf\r\nline', 3, '2', '2', true, 'z'],
  [8, 'lone cr\r', 4, '3', '3', false, 'w'],
  [9, '\r\n', 5, '4', '4', false, 'v'],
  [10, ',', 6, '5', '5', true, 'u'],
  [11, 'ünïcödé 日本語 🎉', 7, '6', '6', true, 't'],
  [12, '', 8, '7', '7', false, ''],
  [13, null, 9, '8', '8', true, null],
  [14, ' spaced, "quoted"\n\r ', 10, '9', '9', false, 's'],
  [null, '\n', null, null, null, null, null],
];

const TRICKY_READ_BACK: unknown[][] = TRICKY_ROWS.map((row) => row.map((value, i) => (i === 2 && value === 'NaN' ? NaN : value)));

describe('readCsvPage', () => {
  describe('reads back what CsvResultSink wrote', () => {
    for (const header of [false, true]) {
      for (const gzip of [false, true]) {
        it(`${header ? 'with' : 'without'} a header, ${gzip ? 'gzipped' : 'plain'}, in chunks of any size`, async () => {
          const bytes = await persisted(TRICKY_COLUMNS, TRICKY_ROWS, { header, gzip });
          for (const chunkSize of [1, 2, 3, 7, 64, bytes.length]) {
            await expect(read(bytes, { columns: TRICKY_COLUMNS, header, gzip }, chunkSize)).resolves.toEqual(TRICKY_READ_BACK);
          }
        });
      }
    }

    it('tells the empty string from null in every column type', async () => {
      const bytes = await persisted(TRICKY_COLUMNS, TRICKY_ROWS, { header: false, gzip: false });
      const [empty, nulls] = await read(bytes, { columns: TRICKY_COLUMNS, from: 11, size: 2 });
      expect(empty).toEqual([12, '', 8, '7', '7', false, '']);
      expect(nulls[1]).toBeNull();
      expect(nulls[6]).toBeNull();
    });

    it('gives numbers for INT and DOUBLE, exact text for BIGINT and DECIMAL, booleans for BOOLEAN', async () => {
      const bytes = await persisted(TRICKY_COLUMNS, TRICKY_ROWS, { header: false, gzip: false });
      const [first, , third] = await read(bytes, { columns: TRICKY_COLUMNS, size: 3 });
      expect(first).toEqual([1, 'plain', 1.5, '9007199254740993', '12.50', true, '2024-02-03T04:05:06.789Z']);
      expect(typeof first[0]).toBe('number');
      expect(third[2]).toBeNaN();
      expect(third[4]).toBe('99999999999999999999999999999.99');
    });

    it('passes over a header whose column names hold commas, quotes and line breaks', async () => {
      const columns = [
        { name: 'a,b', type: 'INT' },
        { name: 'say "x"\r\nnext', type: 'STRING' },
      ];
      const bytes = await persisted(columns, [[1, 'one'], [2, 'two']], { header: true, gzip: false });
      for (const chunkSize of [1, 5, bytes.length]) {
        await expect(read(bytes, { columns, header: true }, chunkSize)).resolves.toEqual([[1, 'one'], [2, 'two']]);
      }
    });

    it('reads rows of a result without columns as empty rows', async () => {
      const bytes = await persisted([], [[], []], { header: false, gzip: false });
      await expect(read(bytes, { columns: [] })).resolves.toEqual([[], []]);
    });

    it('takes string chunks as well as bytes', async () => {
      const page = await readCsvPage(Readable.from(['1,"a', '\nb"\n2,', '""\n']), { gzip: false, header: false, columns: TRICKY_COLUMNS.slice(0, 2), from: 0, size: 5 });
      expect(page).toEqual([[1, 'a\nb'], [2, '']]);
    });

    it('accepts CRLF row ends, as RFC 4180 writes them', async () => {
      const bytes = Buffer.from('id,text\r\n1,a\r\n2,"b\r\nc"\r\n3,\r\n');
      for (const chunkSize of [1, 2, 3, bytes.length]) {
        await expect(read(bytes, { columns: TRICKY_COLUMNS.slice(0, 2), header: true }, chunkSize)).resolves.toEqual([
          [1, 'a'],
          [2, 'b\r\nc'],
          [3, null],
        ]);
      }
    });
  });

  describe('pages', () => {
    const columns: ColumnMeta[] = [
      { name: 'n', type: 'INT' },
      { name: 'label', type: 'STRING' },
    ];
    // Labels with line breaks and commas, so row ends are not simply line ends.
    const rows = Array.from({ length: 25 }, (_, n) => [n, n % 3 === 0 ? `row ${n}\r\nsecond, line` : `row ${n}`]);
    const ids = (page: unknown[][]) => page.map((row) => row[0]);
    const cases: [string, number, number, number[]][] = [
      ['at the start', 0, 5, [0, 1, 2, 3, 4]],
      ['in the middle', 10, 4, [10, 11, 12, 13]],
      ['at the end', 20, 5, [20, 21, 22, 23, 24]],
      ['larger than what is left', 22, 10, [22, 23, 24]],
      ['of one row', 24, 1, [24]],
      ['just past the end', 25, 5, []],
      ['far past the end', 1000, 5, []],
      ['of no rows', 3, 0, []],
    ];

    for (const header of [false, true]) {
      for (const gzip of [false, true]) {
        it(`${header ? 'with' : 'without'} a header, ${gzip ? 'gzipped' : 'plain'}: exactly the rows asked for, in order`, async () => {
          const bytes = await persisted(columns, rows, { header, gzip });
          for (const [, from, size, expected] of cases) {
            for (const chunkSize of [1, 13, bytes.length]) {
              const page = await read(bytes, { columns, header, gzip, from, size }, chunkSize);
              expect(ids(page)).toEqual(expected);
              expect(page).toEqual(expected.map((n) => rows[n]));
            }
          }
        });
      }
    }

    it('finds the same page wherever the chunk boundaries fall, between CR and LF included', async () => {
      const bytes = await persisted(columns, rows, { header: true, gzip: false });
      expect(bytes.includes('\r\n')).toBe(true);
      for (let chunkSize = 1; chunkSize <= 40; chunkSize++) {
        const page = await read(bytes, { columns, header: true, from: 5, size: 4 }, chunkSize);
        expect(page).toEqual([rows[5], rows[6], rows[7], rows[8]]);
      }
    });

    it('pages deep into a result of a million rows', async () => {
      const text = Array.from({ length: 1_000_000 }, (_, n) => `${n},"r,${n}"\n`).join('');
      const page = await read(Buffer.from(text), { columns, from: 999_998, size: 5 }, 65_536);
      expect(page).toEqual([
        [999_998, 'r,999998'],
        [999_999, 'r,999999'],
      ]);
    });
  });

  describe('stops reading once the page is full', () => {
    const columns: ColumnMeta[] = [
      { name: 'n', type: 'BIGINT' },
      { name: 'label', type: 'STRING' },
    ];
    const rowsPerChunk = 1000;
    const block = (index: number) => {
      let text = '';
      for (let n = index * rowsPerChunk; n < (index + 1) * rowsPerChunk; n++) text += `${n},"label ""${n}"""\n`;
      return Buffer.from(text);
    };

    it('reads a chunk or two of a large file for an early page, then destroys the source', async () => {
      const chunks = 2000;
      const source = lazy(chunks, block);
      const page = await readCsvPage(source.stream, { gzip: false, header: false, columns, from: 1500, size: 3 });
      expect(page).toEqual([
        ['1500', 'label "1500"'],
        ['1501', 'label "1501"'],
        ['1502', 'label "1502"'],
      ]);
      expect(source.stream.destroyed).toBe(true);
      expect(source.pulled()).toBeLessThan(6);
    });

    it('does the same through gzip', async () => {
      const gzipped = gzipSync(Buffer.concat(Array.from({ length: 500 }, (_, i) => block(i))));
      const chunkSize = 4096;
      const chunks = Math.ceil(gzipped.length / chunkSize);
      const source = lazy(chunks, (i) => gzipped.subarray(i * chunkSize, (i + 1) * chunkSize));
      const page = await readCsvPage(source.stream, { gzip: true, header: false, columns, from: 10, size: 2 });
      expect(page).toEqual([
        ['10', 'label "10"'],
        ['11', 'label "11"'],
      ]);
      expect(source.stream.destroyed).toBe(true);
      expect(chunks).toBeGreaterThan(100);
      expect(source.pulled()).toBeLessThan(chunks / 10);
    });

    it('destroys the source after reading it to the end too', async () => {
      const source = lazy(3, block);
      const page = await readCsvPage(source.stream, { gzip: false, header: false, columns, from: 2999, size: 10 });
      expect(page).toEqual([['2999', 'label "2999"']]);
      expect(source.pulled()).toBe(3);
      expect(source.stream.destroyed).toBe(true);
    });
  });

  describe('refuses what the sink never writes', () => {
    const columns: ColumnMeta[] = [
      { name: 'n', type: 'INT' },
      { name: 'label', type: 'STRING' },
    ];
    const text = (csv: string, request: Partial<CsvPageRequest> = {}) => read(Buffer.from(csv), { columns, ...request });

    it('a file that ends inside a quoted field', async () => {
      await expect(text('1,a\n2,"cut off\nhere')).rejects.toThrow('persisted result is truncated or corrupt: it ends inside a quoted field');
      const cut = await persisted(columns, [[1, 'a'], [2, 'x\ny']], { header: false, gzip: false });
      await expect(read(cut.subarray(0, cut.length - 3), { columns })).rejects.toThrow(/ends inside a quoted field/);
    });

    it('a file whose last row has no line feed, once the page reaches it', async () => {
      await expect(text('1,a\n2,b')).rejects.toThrow('persisted result is truncated or corrupt: its last row has no line feed');
      await expect(text('1,a\n2,b', { size: 1 })).resolves.toEqual([[1, 'a']]);
    });

    it('a gzip stream that is cut short, or not gzip at all: UnreadableResult, corrupt', async () => {
      const bytes = await persisted(columns, [[1, 'a'], [2, 'b']], { header: false, gzip: true });
      await expect(read(bytes.subarray(0, bytes.length - 6), { columns, gzip: true })).rejects.toThrow(/unexpected end of file/);
      for (const damaged of [bytes.subarray(0, bytes.length - 6), Buffer.from('1,a\n')]) {
        await expect(read(damaged, { columns, gzip: true })).rejects.toMatchObject({ name: 'UnreadableResult', reason: 'corrupt' });
      }
    });

    it('a wanted row longer than the row limit, however the chunks cut it, without gathering it; rows passed over may be any length', async () => {
      const long = `1,${'x'.repeat(5000)}\n2,b\n`;
      for (const chunkSize of [64, 4000, long.length]) {
        await expect(read(Buffer.from(long), { columns, maxRowChars: 4096 }, chunkSize)).rejects.toMatchObject({
          reason: 'row-too-long',
          message: expect.stringContaining('QUARRY_RESULT_MAX_ROW_BYTES'),
        });
        await expect(read(Buffer.from(long), { columns, maxRowChars: 4096, from: 1 }, chunkSize)).resolves.toEqual([[2, 'b']]);
      }
    });

    it('rows that do not fit the columns', async () => {
      await expect(text('1,a,b\n')).rejects.toThrow('persisted result is corrupt at row 0: 3 fields for 2 columns');
      await expect(text('1,a\n2\n', { from: 1 })).rejects.toThrow('persisted result is corrupt at row 1: 1 fields for 2 columns');
      await expect(text('1,"a"b\n')).rejects.toThrow('persisted result is corrupt at row 0: text after a closing quote');
      await expect(text('1,a"b"\n')).rejects.toThrow('persisted result is corrupt at row 0: a quote inside an unquoted field');
      await expect(read(Buffer.from('yes\n'), { columns: [{ name: 'ok', type: 'BOOLEAN' }] })).rejects.toThrow('"yes" in BOOLEAN column ok');
      expect(await read(Buffer.from('t\nf\n'), { columns: [{ name: 'ok', type: 'BOOLEAN' }] })).toEqual([[true], [false]]);
    });

    it('a page that is not a range of rows, destroying the source all the same', async () => {
      for (const [from, size] of [
        [-1, 5],
        [0, -1],
        [1.5, 5],
        [0, Number.NaN],
      ]) {
        const source = chunked(Buffer.from('1,a\n'));
        await expect(readCsvPage(source, { gzip: false, header: false, columns, from, size })).rejects.toThrow(RangeError);
        expect(source.destroyed).toBe(true);
      }
    });

    it('passes on the source failing', async () => {
      const source = new Readable({
        read() {
          this.destroy(new Error('disk gone'));
        },
      });
      await expect(readCsvPage(source, { gzip: false, header: false, columns, from: 0, size: 5 })).rejects.toThrow('disk gone');
      const gzipped = new Readable({
        read() {
          this.destroy(new Error('disk gone under gzip'));
        },
      });
      await expect(readCsvPage(gzipped, { gzip: true, header: false, columns, from: 0, size: 5 })).rejects.toThrow('disk gone under gzip');
    });
  });

  describe('csvRowBatches', () => {
    const TWO_COLUMNS: ColumnMeta[] = [
      { name: 'id', type: 'INT' },
      { name: 'text', type: 'STRING' },
    ];
    const batches = async (source: Readable, request: Partial<CsvPageRequest> & Pick<CsvPageRequest, 'columns'>) => {
      const all: unknown[][][] = [];
      for await (const batch of csvRowBatches(source, { gzip: false, header: false, from: 0, size: 2, ...request })) all.push(batch);
      return all;
    };

    it('every row from `from` on, typed as readCsvPage types them, however chunks and gzip cut the file', async () => {
      for (const options of [
        { header: false, gzip: false },
        { header: true, gzip: true },
      ]) {
        const bytes = await persisted(TRICKY_COLUMNS, TRICKY_ROWS, options);
        const whole = await readCsvPage(chunked(bytes), { ...options, columns: TRICKY_COLUMNS, from: 1, size: 10_000 });
        const got = await batches(chunked(bytes, 7), { ...options, columns: TRICKY_COLUMNS, from: 1 });
        expect(got.flat()).toEqual(whole);
        expect(got.length).toBeGreaterThan(1);
      }
    });

    it('reads the next chunk only when the next batch is asked for', async () => {
      const { stream, pulled } = lazy(1_000, (i) => Buffer.from(`${i},a\n${i},b\n`));
      const iterator = csvRowBatches(stream, { gzip: false, header: false, columns: TWO_COLUMNS, from: 0, size: 4 });
      const first = await iterator.next();
      expect(first.value).toHaveLength(4);
      expect(pulled()).toBeLessThan(10);
      await iterator.return(undefined);
      expect(stream.destroyed).toBe(true);
    });

    it('a damaged file fails as corrupt', async () => {
      const gzipped = gzipSync(Buffer.from('1,a\n2,b\n'));
      await expect(batches(chunked(gzipped.subarray(0, gzipped.length - 6)), { gzip: true, columns: TWO_COLUMNS })).rejects.toThrow(UnreadableResult);
      await expect(batches(chunked(Buffer.from('1,a\n2,"b\n')), { columns: TWO_COLUMNS })).rejects.toThrow('ends inside a quoted field');
    });
  });
});
