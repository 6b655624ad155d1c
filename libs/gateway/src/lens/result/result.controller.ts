import { pipeline } from 'node:stream/promises';
import { Controller, Delete, Get, Inject, Param, Req, Res, UseFilters } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import { AnswersErrorsAs, ApiRoute, reply, SESSION_ID, RESULT_STORE, sessionIdFrom } from '@quarry/platform';
import { QueryErrorsFilter, QueryService, queryHandleFrom, toMetadata } from '@quarry/query';
import { persistedReadFailure, ResultDeletion, ResultsetPages, type ResultStore } from '@quarry/result';
import type { Request, Response } from 'express';

/**
 * Result sets of finished queries, from any node: persisted ones from the shared result store,
 * in-memory ones from the node holding them (forwarded, or a 307 to it). Only the query's own
 * user gets them.
 */
@Controller('lensapi/queryapi/queries/:handle')
@UseFilters(QueryErrorsFilter)
@AnswersErrorsAs('text')
export class ResultController {
  constructor(
    private readonly queries: QueryService,
    private readonly deletion: ResultDeletion,
    private readonly pages: ResultsetPages,
    @Inject(RESULT_STORE) private readonly store: ResultStore,
  ) {}

  /** Removes the result everywhere: the event first (every node then says it is gone), then the bytes. */
  @ApiRoute({ tag: 'results', summary: "Delete a query's result everywhere", answer: { lens: 'apiResult' }, params: { handle: 'the query handle (a UUID)' }, query: { sessionid: SESSION_ID }, errors: ['SESSION_ID_NOT_PROVIDED', 'SESSION_CLOSED', 'INVALID_HANDLE', 'RESOURCE_NOT_FOUND'] })
  @Delete('resultset')
  @AnswersErrorsAs('apiResult')
  async remove(@Req() req: Request, @Res() res: Response, @Param('handle') raw: string) {
    const queryHandle = queryHandleFrom(raw);
    const { state } = await this.queries.get(sessionIdFrom(req.query['sessionid']), queryHandle);
    await this.deletion.remove(state);
    reply(req, res, 200, { kind: 'apiResult', value: { status: 'SUCCEEDED', message: `result of ${queryHandle} deleted` } });
  }

  @ApiRoute({ tag: 'results', summary: "The result's columns with Lens types", answer: { lens: 'queryResultSetMetadata' }, params: { handle: 'the query handle (a UUID)' }, query: { sessionid: SESSION_ID }, errors: ['SESSION_ID_NOT_PROVIDED', 'SESSION_CLOSED', 'INVALID_HANDLE', 'RESOURCE_NOT_FOUND', 'INVALID_PARAMETER_VALUE', 'RESULT_GONE', 'RESULT_UNAVAILABLE'] })
  @Get('resultsetmetadata')
  async metadata(@Req() req: Request, @Res() res: Response, @Param('handle') raw: string) {
    const { state } = this.pages.withResult(await this.pages.view(req, raw));
    const columns = state.persistedResult?.columns ?? state.heldResult?.columns ?? [];
    reply(req, res, 200, { kind: 'queryResultSetMetadata', value: toMetadata(columns) });
  }

  /** Rows from fromindex on, at most fetchsize of them, wherever the result is (see ResultsetPages). */
  @ApiRoute({ tag: 'results', summary: 'Rows of the result (inMemoryQueryResult), or where a persisted one is (persistentQueryResult) when neither fromindex nor fetchsize is given', answer: { lens: 'inMemoryQueryResult' }, params: { handle: 'the query handle (a UUID)' }, query: { sessionid: SESSION_ID, fromindex: { description: 'first row, from 0' }, fetchsize: { description: 'rows, 1 to 10000' }, 'quarry.holder': { description: "set by Quarry's own 307 through a routing balancer: the node holding the result, which the balancer routes to (ADR 21)" } }, errors: ['SESSION_ID_NOT_PROVIDED', 'SESSION_CLOSED', 'INVALID_HANDLE', 'RESOURCE_NOT_FOUND', 'INVALID_PARAMETER_VALUE', 'RESULT_GONE', 'RESULT_UNAVAILABLE'], otherAnswers: { 307: 'the same page through the balancer to the node holding the result (a balancer that routes, ADR 21), or that node itself (QUARRY_RESULT_FETCH=redirect): follow it' } })
  @Get('resultset')
  resultset(@Req() req: Request, @Res() res: Response, @Param('handle') raw: string) {
    return this.pages.answer(req, res, raw, 'point');
  }

  /** The persisted file as a download, streamed: the node holds a chunk at a time. */
  @ApiRoute({ tag: 'results', summary: 'The persisted result as a download (CSV, gzip with lens.query.output.compression.codec=gzip)', answer: { mediaType: 'text/csv', schema: { type: 'string', format: 'binary' } }, params: { handle: 'the query handle (a UUID)' }, query: { sessionid: SESSION_ID }, errors: ['SESSION_ID_NOT_PROVIDED', 'SESSION_CLOSED', 'INVALID_HANDLE', 'RESOURCE_NOT_FOUND', 'INVALID_PARAMETER_VALUE', 'RESULT_GONE', 'RESULT_UNAVAILABLE'] })
  @Get('httpresultset')
  async download(@Req() req: Request, @Res() res: Response, @Param('handle') raw: string) {
    const { state } = this.pages.withResult(await this.pages.view(req, raw));
    const persisted = state.persistedResult;
    if (!persisted) throw new LensError('INVALID_PARAMETER_VALUE', `query ${state.handle} has no persisted result; read it with GET .../resultset`);
    const { stream, bytes } = await this.store.open(persisted.path).catch((error: unknown) => {
      throw persistedReadFailure(state.handle!, error);
    });
    res.status(200);
    res.setHeader('content-type', persisted.gzip ? 'application/gzip' : 'text/csv; charset=utf-8');
    res.setHeader('content-length', String(bytes));
    res.setHeader('content-disposition', `attachment; filename="${persisted.path}"`);
    // Once the headers are out no error answer can follow: the cut connection (short of content-length) says it.
    await pipeline(stream, res).catch(() => res.destroy());
  }
}
