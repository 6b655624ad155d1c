import { Inject, Injectable } from '@nestjs/common';
import { LensError, type GrpcRowBatch, type LensSessionHandle } from '@quarry/contracts';
import { QUARRY_CONFIG, RESULT_STORE, type QuarryConfig } from '@quarry/platform';
import { QueryService, type QueryView } from '@quarry/query';
import { csvRowBatches, persistedReadFailure, ResultReader, type ResultStore } from '@quarry/result';
import { rowBatchOf } from './row-batch';

export interface BatchRequest {
  session: LensSessionHandle;
  queryHandle: string;
  from: number;
  size: number;
}

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

  async *batches(request: BatchRequest): AsyncGenerator<GrpcRowBatch> {
    const view = this.reader.withResult(await this.queries.get(request.session, request.queryHandle));
    if (!this.reader.answersFor(view.state)) return yield* this.persisted(view, request.from, request.size);
    const sessionId = JSON.stringify(request.session);
    let from = request.from;
    for (;;) {
      const answer = await this.reader.page(view, { session: request.session, sessionId, from, size: request.size, remote: 'fetch' });
      if (answer.kind === 'persisted') return yield* this.persisted(answer.view, from, request.size);
      if (answer.kind !== 'rows') throw new Error(`a fetched page answered ${answer.kind}`);
      const { rows, columns, rowCount } = answer.page;
      if (rows.length > 0 || from === request.from) yield rowBatchOf(rows, columns, from, from === request.from);
      from += rows.length;
      if (rows.length < request.size || from >= rowCount) return;
    }
  }

  private async *persisted({ state }: QueryView, from: number, size: number): AsyncGenerator<GrpcRowBatch> {
    const persisted = state.persistedResult;
    const handle = state.handle!;
    if (!persisted) throw new LensError('INVALID_PARAMETER_VALUE', `query ${handle} has no result rows`);
    const failure = (error: unknown) => persistedReadFailure(handle, error);
    const { stream } = await this.store.open(persisted.path).catch((error: unknown) => {
      throw failure(error);
    });
    const rows = csvRowBatches(stream, { gzip: persisted.gzip, header: persisted.header ?? false, columns: persisted.columns, from, size, maxRowChars: this.config.results.maxRowBytes });
    let at = from;
    try {
      for await (const batch of rows) {
        yield rowBatchOf(batch, persisted.columns, at, at === from);
        at += batch.length;
      }
    } catch (error) {
      throw failure(error);
    }
    if (at === from) yield rowBatchOf([], persisted.columns, from, true);
  }
}
