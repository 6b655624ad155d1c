import { Inject, Injectable } from '@nestjs/common';
import { encodeRowBatch, LensError, rowBatchOf, type GrpcRowBatch, type LensSessionHandle, type PersistedResultInfo } from '@quarry/contracts';
import { QUARRY_CONFIG, RESULT_STORE, type QuarryConfig } from '@quarry/platform';
import { QueryService, type QueryView } from '@quarry/query';
import { csvRowBatches, encodedRowBatches, persistedReadFailure, readCsvPage, ResultReader, type ResultStore } from '@quarry/result';

export interface BatchRequest {
  session: LensSessionHandle;
  queryHandle: string;
  from: number;
  /** Rows per batch; undefined: the server's choice (a persisted result's own encoded batches). */
  size?: number;
}

/** Rows per batch read from memory or parsed from a CSV when the client names no size: a REST page's most. */
const DEFAULT_BATCH_ROWS = 10_000;

/** Reads of a row-batch file: about two batches at a time, so a batch is rarely pieced together from chunks. */
const ROW_BATCH_READ_BYTES = 1024 * 1024;

/** A batch to send: made here, or already encoded (the row-batch file's, sent as it lies). */
export type OutgoingBatch = GrpcRowBatch | Buffer;

/**
 * A finished query's rows as RowBatches, from any node, through the REST API's own read paths:
 * an in-memory result page by page through ResultReader (here, or asked of its holder; gone,
 * re-run or moved to the store as it says), a persisted one read from the result store as a stream.
 * A batch is made only when the one before it was taken (the caller's back-pressure).
 */
@Injectable()
export class ResultBatches {
  constructor(
    private readonly queries: QueryService,
    private readonly reader: ResultReader,
    @Inject(RESULT_STORE) private readonly store: ResultStore,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
  ) {}

  async *batches(request: BatchRequest): AsyncGenerator<OutgoingBatch> {
    const view = this.reader.withResult(await this.queries.get(request.session, request.queryHandle));
    if (!this.reader.answersFor(view.state)) return yield* this.persisted(view, request.from, request.size);
    const sessionId = JSON.stringify(request.session);
    const size = request.size ?? DEFAULT_BATCH_ROWS;
    let from = request.from;
    for (;;) {
      const answer = await this.reader.page(view, { session: request.session, sessionId, from, size, remote: 'fetch' });
      if (answer.kind === 'persisted') return yield* this.persisted(answer.view, from, request.size);
      if (answer.kind !== 'rows') throw new Error(`a fetched page answered ${answer.kind}`);
      const { rows, columns, rowCount } = answer.page;
      if (rows.length > 0 || from === request.from) yield rowBatchOf(rows, columns, from, from === request.from);
      from += rows.length;
      if (rows.length < size || from >= rowCount) return;
    }
  }

  /** A persisted result: its encoded batches when it has them and the client left the size to us, else its CSV parsed. */
  private async *persisted({ state }: QueryView, from: number, size: number | undefined): AsyncGenerator<OutgoingBatch> {
    const persisted = state.persistedResult;
    const handle = state.handle!;
    if (!persisted) throw new LensError('INVALID_PARAMETER_VALUE', `query ${handle} has no result rows`);
    try {
      if (size === undefined && persisted.rowBatches) yield* this.encoded(persisted, persisted.rowBatches.path, from);
      else yield* this.parsed(persisted, from, size ?? DEFAULT_BATCH_ROWS);
    } catch (error) {
      throw persistedReadFailure(handle, error);
    }
  }

  /**
   * The row-batch file's batches as they lie, the columns put in front of the first (protobuf
   * merges concatenated messages). A `from` inside a batch: that batch's rows from `from` on are
   * read from the CSV instead.
   */
  private async *encoded(persisted: PersistedResultInfo, path: string, from: number): AsyncGenerator<OutgoingBatch> {
    let first = true;
    for await (const batch of encodedRowBatches((await this.store.open(path, { chunkBytes: ROW_BATCH_READ_BYTES })).stream)) {
      const end = batch.fromIndex + batch.rowCount;
      if (end <= from) continue;
      if (batch.fromIndex < from) {
        yield rowBatchOf(await readCsvPage((await this.store.open(persisted.path)).stream, this.csvRequest(persisted, from, end - from)), persisted.columns, from, true);
      } else {
        yield first ? Buffer.concat([columnsOnly(persisted), batch.bytes]) : batch.bytes;
      }
      first = false;
    }
    if (first) yield rowBatchOf([], persisted.columns, from, true);
  }

  private async *parsed(persisted: PersistedResultInfo, from: number, size: number): AsyncGenerator<OutgoingBatch> {
    const { stream } = await this.store.open(persisted.path);
    let at = from;
    for await (const batch of csvRowBatches(stream, this.csvRequest(persisted, from, size))) {
      yield rowBatchOf(batch, persisted.columns, at, at === from);
      at += batch.length;
    }
    if (at === from) yield rowBatchOf([], persisted.columns, from, true);
  }

  private csvRequest(persisted: PersistedResultInfo, from: number, size: number) {
    return { gzip: persisted.gzip, header: persisted.header ?? false, columns: persisted.columns, from, size, maxRowChars: this.config.results.maxRowBytes };
  }
}

/** A RowBatch of the columns alone (no values: merged in front of an encoded batch, they would add empty columns). */
function columnsOnly({ columns }: PersistedResultInfo): Buffer {
  return encodeRowBatch({ columns: columns.map(({ name, type }) => ({ name, type })), fromIndex: 0, rowCount: 0, values: [] });
}
