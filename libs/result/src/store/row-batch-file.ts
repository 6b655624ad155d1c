import type { Readable } from 'node:stream';
import type { ColumnMeta } from '@quarry/drivers';
import { UnreadableResult } from './csv-page-reader';
import { CsvRowBatchEncoder } from './csv-row-batch-encoder';
import type { ResultWriter } from './result-store';

/*
 * A persisted result's rows as quarry.v1 RowBatch messages, encoded once while its CSV is written
 * and kept beside it, so that FetchResult streams them as they lie, the way the download streams
 * the CSV (ADR 20). The file: MAGIC, then per batch its encoded size and row count (two unsigned
 * 32-bit big-endian numbers) and the RowBatch itself (from_index, row_count, values; no columns,
 * which the first batch sent is given in front).
 */

const MAGIC = Buffer.from('QRBATCH1');
const HEAD_BYTES = 8;
/** CSV bytes per batch: ~0.5 MiB encoded, far below a client's default 4 MiB message limit. */
export const ROW_BATCH_TARGET_BYTES = 512 * 1024;
/** Rows per batch at most, however narrow. */
export const ROW_BATCH_MAX_ROWS = 65_536;

/** One encoded batch read back: where it starts in the result, how many rows, its message. */
export interface EncodedRowBatch {
  fromIndex: number;
  rowCount: number;
  bytes: Buffer;
}

/**
 * Turns the CSV text of a result, as it is written, into row batches written to `out`: rows typed
 * as reading the CSV back types them, cut at ROW_BATCH_TARGET_BYTES or ROW_BATCH_MAX_ROWS.
 */
export class RowBatchFileWriter {
  private readonly encoder: CsvRowBatchEncoder;
  private ready: Buffer[] = [MAGIC];
  private readonly onRowEnd = () => {
    if (this.encoder.bytes >= ROW_BATCH_TARGET_BYTES || this.encoder.rows >= ROW_BATCH_MAX_ROWS) this.cut();
  };

  constructor(
    private readonly out: Pick<ResultWriter, 'write'>,
    columns: readonly ColumnMeta[],
    header: boolean,
  ) {
    this.encoder = new CsvRowBatchEncoder(columns, header);
  }

  async write(chunk: string | Buffer): Promise<void> {
    this.encoder.feed(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, this.onRowEnd);
    await this.flush();
  }

  /** The last rows; throws if the CSV ended inside a row. */
  async end(): Promise<void> {
    this.encoder.finish();
    if (this.encoder.rows > 0) this.cut();
    await this.flush();
  }

  private cut(): void {
    const rows = this.encoder.rows;
    const body = this.encoder.take();
    const head = Buffer.allocUnsafe(HEAD_BYTES);
    head.writeUInt32BE(body.length, 0);
    head.writeUInt32BE(rows, 4);
    this.ready.push(head, body);
  }

  private async flush(): Promise<void> {
    if (this.ready.length === 0) return;
    const bytes = this.ready.length === 1 ? this.ready[0] : Buffer.concat(this.ready);
    this.ready = [];
    await this.out.write(bytes);
  }
}

/** The batches of a row-batch file in order, read as the consumer asks for them. */
export async function* encodedRowBatches(source: Readable): AsyncGenerator<EncodedRowBatch> {
  const input = new ExactReader(source[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  try {
    const magic = await input.take(MAGIC.length);
    if (!magic?.equals(MAGIC)) throw corrupt('it does not begin as a row-batch file');
    let fromIndex = 0;
    for (;;) {
      const head = await input.take(HEAD_BYTES);
      if (!head) return;
      const rowCount = head.readUInt32BE(4);
      const bytes = await input.take(head.readUInt32BE(0));
      if (!bytes) throw corrupt(`it ends inside the batch at row ${fromIndex}`);
      yield { fromIndex, rowCount, bytes };
      fromIndex += rowCount;
    }
  } finally {
    source.destroy();
  }
}

function corrupt(what: string): UnreadableResult {
  return new UnreadableResult('corrupt', `persisted row batches are truncated or corrupt: ${what}`);
}

/** Exactly n bytes at a time from a stream of chunks, copied only when n spans chunks. */
class ExactReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  /** The next n bytes; undefined at a clean end; throws when the stream ends part way. */
  async take(n: number): Promise<Buffer | undefined> {
    while (this.buffered < n) {
      const next = await this.source.next();
      if (next.done) {
        if (this.buffered === 0) return undefined;
        throw corrupt('it ends part way through a batch');
      }
      this.chunks.push(next.value);
      this.buffered += next.value.length;
    }
    const whole = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    const rest = whole.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return whole.subarray(0, n);
  }
}
