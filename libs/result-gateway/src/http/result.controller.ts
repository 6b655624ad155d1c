import { pipeline } from 'node:stream/promises';
import { Controller, Delete, Get, Inject, Param, Req, Res, UseFilters } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import { AnswersErrorsAs, reply, RESULT_STORE, sessionIdFrom } from '@quarry/platform';
import {
  MAX_FETCH,
  persistentResultOf,
  QueryErrorsFilter,
  QueryRepository,
  QueryResults,
  QueryService,
  queryHandleFrom,
  toMetadata,
  toRows,
  wholeNumber,
  type QueryView,
} from '@quarry/query';
import type { Request, Response } from 'express';
import type { ResultStore } from '../store/result-store';

/**
 * Result sets of finished queries, from any node: persisted ones from the shared result store,
 * the others from PostgreSQL. Only the query's own user gets them.
 */
@Controller('lensapi/queryapi/queries/:handle')
@UseFilters(QueryErrorsFilter)
@AnswersErrorsAs('text')
export class ResultController {
  constructor(
    private readonly queries: QueryService,
    private readonly results: QueryResults,
    private readonly repository: QueryRepository,
    @Inject(RESULT_STORE) private readonly store: ResultStore,
  ) {}

  /** Removes the result everywhere: the event first (every node then says it is gone), then the bytes. */
  @Delete('resultset')
  @AnswersErrorsAs('apiResult')
  async remove(@Req() req: Request, @Res() res: Response, @Param('handle') raw: string) {
    const queryHandle = queryHandleFrom(raw);
    const { state } = await this.queries.get(sessionIdFrom(req.query['sessionid']), queryHandle);
    await this.repository.execute(
      queryHandle,
      { type: 'DeleteResult', deletedBy: state.userName! },
      { alsoInTransaction: (tx) => tx.query('DELETE FROM query_results WHERE query_handle = $1', [queryHandle]) },
    );
    if (state.persistedResult) await this.store.remove(state.persistedResult.path);
    reply(req, res, 200, { kind: 'apiResult', value: { status: 'SUCCEEDED', message: `result of ${queryHandle} deleted` } });
  }

  @Get('resultsetmetadata')
  async metadata(@Req() req: Request, @Res() res: Response, @Param('handle') raw: string) {
    const { state } = await this.finished(req, raw);
    const columns = state.persistedResult?.columns ?? (await this.results.columns(state.handle!)) ?? [];
    reply(req, res, 200, { kind: 'queryResultSetMetadata', value: toMetadata(columns) });
  }

  /** Rows `fromindex` on, at most `fetchsize` of them (Lens ignored both; Quarry does not). */
  @Get('resultset')
  async resultset(@Req() req: Request, @Res() res: Response, @Param('handle') raw: string) {
    const { state } = await this.finished(req, raw);
    if (state.persistedResult) {
      reply(req, res, 200, { kind: 'persistentQueryResult', value: persistentResultOf(state.handle!, state.persistedResult) });
      return;
    }
    const from = wholeNumber(req.query['fromindex'], 'fromindex', 0, 0, Number.MAX_SAFE_INTEGER);
    const size = wholeNumber(req.query['fetchsize'], 'fetchsize', MAX_FETCH, 1, MAX_FETCH);
    const page = await this.results.page(state.handle!, from, size);
    reply(req, res, 200, { kind: 'inMemoryQueryResult', value: { rows: page ? toRows(page.rows, page.columns) : [] } });
  }

  /** The persisted file as a download, streamed: the node holds a chunk at a time. */
  @Get('httpresultset')
  async download(@Req() req: Request, @Res() res: Response, @Param('handle') raw: string) {
    const { state } = await this.finished(req, raw);
    const persisted = state.persistedResult;
    if (!persisted) throw new LensError('INVALID_PARAMETER_VALUE', `query ${state.handle} has no persisted result; read it with GET .../resultset`);
    const { stream, bytes } = await this.store.open(persisted.path);
    res.status(200);
    res.setHeader('content-type', persisted.gzip ? 'application/gzip' : 'text/csv; charset=utf-8');
    res.setHeader('content-length', String(bytes));
    res.setHeader('content-disposition', `attachment; filename="${persisted.path}"`);
    await pipeline(stream, res);
  }

  private async finished(req: Request, raw: string): Promise<QueryView> {
    const queryHandle = queryHandleFrom(raw);
    const view = await this.queries.get(sessionIdFrom(req.query['sessionid']), queryHandle);
    if (!view.state.resultAvailable || view.state.status !== 'SUCCESSFUL') {
      const why = view.state.errorMessage ? ` (${view.state.errorMessage})` : '';
      throw new LensError('INVALID_PARAMETER_VALUE', `query ${queryHandle} has no result: it is ${view.state.status}${why}`);
    }
    return view;
  }
}
