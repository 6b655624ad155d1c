import { Readable } from 'node:stream';
import { encodeRowBatch, fetchResultCodec, rowBatchOf, rowBatchPlaceOf } from '@quarry/contracts';
import type { ColumnMeta } from '@quarry/drivers';
import { readCsvPage, UnreadableResult } from './csv-page-reader';
import { CsvResultSink } from './csv-result-sink';
import { encodedRowBatches, ROW_BATCH_MAX_ROWS, ROW_BATCH_TARGET_BYTES, RowBatchFileWriter, type EncodedRowBatch } from './row-batch-file';

const { responseDeserialize } = fetchResultCodec();

const COLUMNS: ColumnMeta[] = [
  { name: 'id', type: 'INT' },
  { name: 'big', type: 'BIGINT' },
  { name: 'label', type: 'STRING' },
  { name: 'ratio', type: 'DOUBLE' },
  { name: 'flag', type: 'BOOLEAN' },
  { name: 'amount', type: 'DECIMAL' },
];
const rowAt = (i: number): unknown[] => [i, i % 7 === 0 ? '9223372036854775807' : String(-i * 3), i % 11 === 0 ? 'a,"b"\nc ✓' : `row ${i} ${'·'.repeat(40)}`, i / 8, i % 3 === 0, i % 5 === 0 ? null : `${i}.25`];

/** A result written as ResultCapture writes it: the CSV text through the sink, the same text to the row-batch file, in chunks cut anywhere. */
async function written(rows: unknown[][], options: { header: boolean; chunkBytes: number }): Promise<{ csv: Buffer; file: Buffer }> {
  const text: string[] = [];
  const sink = new CsvResultSink({ write: async (chunk) => void text.push(String(chunk)) }, options.header);
  await sink.columns(COLUMNS);
  for (let at = 0; at < rows.length; at += 1000) await sink.rows(rows.slice(at, at + 1000));
  const csv = Buffer.from(text.join(''));
  const out: Buffer[] = [];
  const file = new RowBatchFileWriter({ write: async (chunk) => void out.push(Buffer.from(chunk)) }, COLUMNS, options.header);
  for (let at = 0; at < csv.length; at += options.chunkBytes) await file.write(csv.subarray(at, at + options.chunkBytes));
  await file.end();
  return { csv, file: Buffer.concat(out) };
}

async function batchesOf(file: Buffer, chunkBytes = file.length): Promise<EncodedRowBatch[]> {
  const chunks: Buffer[] = [];
  for (let at = 0; at < file.length; at += chunkBytes) chunks.push(file.subarray(at, at + chunkBytes));
  const batches: EncodedRowBatch[] = [];
  for await (const batch of encodedRowBatches(Readable.from(chunks))) batches.push(batch);
  return batches;
}

describe('row-batch files', () => {
  it('hold, batch after batch, exactly the RowBatches that reading the CSV back would give, whatever the chunks', async () => {
    const rows = Array.from({ length: 12_000 }, (_, i) => rowAt(i));
    for (const [header, chunkBytes] of [
      [false, 65_536],
      [true, 97],
    ] as const) {
      const { csv, file } = await written(rows, { header, chunkBytes });
      const batches = await batchesOf(file, 4099);
      expect(batches.reduce((sum, b) => sum + b.rowCount, 0)).toBe(rows.length);
      expect(batches.length).toBeGreaterThan(1);
      for (const batch of batches) {
        const parsed = await readCsvPage(Readable.from([csv]), { gzip: false, header, columns: COLUMNS, from: batch.fromIndex, size: batch.rowCount });
        expect(responseDeserialize(batch.bytes)).toEqual(responseDeserialize(encodeRowBatch(rowBatchOf(parsed, COLUMNS, batch.fromIndex, false))));
        expect(rowBatchPlaceOf(batch.bytes)).toEqual({ fromIndex: batch.fromIndex, rowCount: batch.rowCount });
      }
    }
  });

  it('read what COPY or a hand may write as reading the CSV back does: CRLF, t/f, -0, "" apart from null, doubled quotes, fed a byte at a time', async () => {
    const text = '-0,9007199254740993,"",1e3,t,\r\n7,-12,"say ""hi""\r\nthere",-Infinity,f,"0.1"\n,,,,,\n00012,+5,x\ry,NaN,false,""\r\n';
    const csv = Buffer.from(text);
    const out: Buffer[] = [];
    const file = new RowBatchFileWriter({ write: async (chunk) => void out.push(Buffer.from(chunk)) }, COLUMNS, false);
    for (let at = 0; at < csv.length; at++) await file.write(csv.subarray(at, at + 1));
    await file.end();
    const [batch, ...none] = await batchesOf(Buffer.concat(out));
    expect(none).toEqual([]);
    const parsed = await readCsvPage(Readable.from([csv]), { gzip: false, header: false, columns: COLUMNS, from: 0, size: 10 });
    expect(parsed).toHaveLength(4);
    expect(responseDeserialize(batch.bytes)).toEqual(responseDeserialize(encodeRowBatch(rowBatchOf(parsed, COLUMNS, 0, false))));
  });

  it('gathers a row longer than many chunks once, quoted line feeds and all', async () => {
    const long = `${'a\n"'.repeat(100_000)}z`;
    const text = `1,2,"${long.replace(/"/g, '""')}",0.5,true,\n3,4,b,1,f,2\n`;
    const csv = Buffer.from(text);
    const out: Buffer[] = [];
    const file = new RowBatchFileWriter({ write: async (chunk) => void out.push(Buffer.from(chunk)) }, COLUMNS, true);
    const header = 'id,big,label,ratio,flag,amount\n';
    for (const chunk of [Buffer.from(header.slice(0, 5)), Buffer.from(header.slice(5))]) await file.write(chunk);
    for (let at = 0; at < csv.length; at += 1000) await file.write(csv.subarray(at, at + 1000));
    await file.end();
    const [batch] = await batchesOf(Buffer.concat(out));
    const decoded = responseDeserialize(batch.bytes) as { rowCount: number; values: { strings: string[] }[] };
    expect(decoded.rowCount).toBe(2);
    expect(decoded.values[2].strings).toEqual([long, 'b']);
  });

  it('refuses damaged CSV text as reading it back does', async () => {
    for (const text of ['1,2,a"b,0.5,true,1\n', '1,2,"a"b,0.5,true,1\n', '1,2,a,0.5,true\n', '1,2,a,0.5,true,1,extra\n', '1,2,a,0.5,yes,1\n']) {
      const file = new RowBatchFileWriter({ write: async () => undefined }, COLUMNS, false);
      await expect(readCsvPage(Readable.from([Buffer.from(text)]), { gzip: false, header: false, columns: COLUMNS, from: 0, size: 10 })).rejects.toBeInstanceOf(UnreadableResult);
      await expect(file.write(text).then(() => file.end())).rejects.toBeInstanceOf(UnreadableResult);
    }
  });

  it('cut batches at about half a MiB of text, or at most rows', async () => {
    const wide = Array.from({ length: 3000 }, (_, i) => [i, '1', 'x'.repeat(1000), 0, true, null]);
    const narrow = Array.from({ length: ROW_BATCH_MAX_ROWS + 10 }, () => [null, null, null, null, null, null]);
    const wideBatches = await batchesOf((await written(wide, { header: false, chunkBytes: 65_536 })).file);
    // Each row's text is 1,011 to 1,015 characters: a batch ends with the row that reaches the target.
    expect(wideBatches.reduce((sum, b) => sum + b.rowCount, 0)).toBe(3000);
    for (const { rowCount } of wideBatches.slice(0, -1)) {
      expect(rowCount * 1015).toBeGreaterThanOrEqual(ROW_BATCH_TARGET_BYTES);
      expect((rowCount - 1) * 1011).toBeLessThan(ROW_BATCH_TARGET_BYTES);
    }
    expect((await batchesOf((await written(narrow, { header: false, chunkBytes: 65_536 })).file)).map((b) => b.rowCount)).toEqual([ROW_BATCH_MAX_ROWS, 10]);
  });

  it('an empty result is a file without batches; a damaged one is refused as corrupt', async () => {
    const { file } = await written([], { header: true, chunkBytes: 100 });
    expect(await batchesOf(file)).toEqual([]);
    const full = (await written(Array.from({ length: 10 }, (_, i) => rowAt(i)), { header: false, chunkBytes: 100 })).file;
    for (const damaged of [full.subarray(0, full.length - 1), full.subarray(0, 12), Buffer.from('id,big\n1,2\n')]) {
      await expect(batchesOf(damaged)).rejects.toBeInstanceOf(UnreadableResult);
    }
  });

  it('refuses CSV text that ends inside a row, as reading it back would', async () => {
    const file = new RowBatchFileWriter({ write: async () => undefined }, COLUMNS, false);
    await file.write('1,2,a,0.5,true,1.5\n2,3,"unfinished');
    await expect(file.end()).rejects.toBeInstanceOf(UnreadableResult);
  });
});
