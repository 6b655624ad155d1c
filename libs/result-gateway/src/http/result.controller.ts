import { pipeline } from 'node:stream/promises';
import { Controller, Delete, Get, Inject, Param, Req, Res, UseFilters } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import { AnswersErrorsAs, NODE_IDENTITY, QUARRY_CONFIG, reply, RESULT_STORE, sessionIdFrom, textField, type NodeIdentity, type QuarryConfig } from '@quarry/platform';
import {
  FORWARDED_HEADER,
  MAX_FETCH,
  persistentResultOf,
  QueryErrorsFilter,
  QueryRepository,
  QueryService,
  queryHandleFrom,
  ResultLocator,
  ResultReader,
  toMetadata,
  toRows,
  wholeNumber,
  type QueryView,
} from '@quarry/query';
import type { Request, Response } from 'express';
import { RESULT_RELEASED_CHANNEL } from '../held/held-result-keeper';
import { readCsvPage } from '../store/csv-page-reader';
import { forwardToHolder } from './forward-to-holder';
import { persistedReadFailure } from './persisted-read-failure';
import type { ResultStore } from '../store/result-store';

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
    private readonly repository: QueryRepository,
    private readonly reader: ResultReader,
    private readonly locator: ResultLocator,
    @Inject(RESULT_STORE) private readonly store: ResultStore,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    @Inject(NODE_IDENTITY) private readonly identity: NodeIdentity,
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
      { alsoInTransaction: (tx) => tx.query('SELECT pg_notify($1, $2)', [RESULT_RELEASED_CHANNEL, queryHandle]) },
    );
    if (state.persistedResult) await this.store.remove(state.persistedResult.path);
    reply(req, res, 200, { kind: 'apiResult', value: { status: 'SUCCEEDED', message: `result of ${queryHandle} deleted` } });
  }

  @Get('resultsetmetadata')
  async metadata(@Req() req: Request, @Res() res: Response, @Param('handle') raw: string) {
    const { state } = this.withResult(await this.view(req, raw));
    const columns = state.persistedResult?.columns ?? state.heldResult?.columns ?? [];
    reply(req, res, 200, { kind: 'queryResultSetMetadata', value: toMetadata(columns) });
  }

  /**
   * Rows `fromindex` on, at most `fetchsize` of them (Lens ignored both; Quarry does not). A
   * persisted result answers where it lies, unless a page is asked for: then the rows of that page.
   */
  @Get('resultset')
  async resultset(@Req() req: Request, @Res() res: Response, @Param('handle') raw: string) {
    const view = await this.view(req, raw);
    const from = wholeNumber(req.query['fromindex'], 'fromindex', 0, 0, Number.MAX_SAFE_INTEGER);
    const size = wholeNumber(req.query['fetchsize'], 'fetchsize', MAX_FETCH, 1, MAX_FETCH);
    if (!this.reader.answersFor(view.state)) return this.persisted(req, res, this.withResult(view), from, size);
    const forwarded = req.headers[FORWARDED_HEADER] !== undefined;
    const session = { session: sessionIdFrom(req.query['sessionid']), sessionId: textField(req.query['sessionid'], 'sessionid')! };
    const answer = await this.reader.page(view, { ...session, from, size, remote: forwarded ? 'refuse' : 'point' });
    switch (answer.kind) {
      case 'remote': {
        const target = new URL(req.originalUrl, answer.url);
        if (this.config.results.fetchMode === 'redirect') res.redirect(307, target.toString());
        else await forwardToHolder(target, answer.nodeId, this.identity.nodeId, req, res);
        return;
      }
      case 'persisted':
        return this.persisted(req, res, answer.view, from, size);
      case 'rows':
        reply(req, res, 200, { kind: 'inMemoryQueryResult', value: { rows: toRows(answer.page.rows, answer.page.columns) } });
    }
  }

  /** The persisted file as a download, streamed: the node holds a chunk at a time. */
  @Get('httpresultset')
  async download(@Req() req: Request, @Res() res: Response, @Param('handle') raw: string) {
    const { state } = this.withResult(await this.view(req, raw));
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

  /**
   * Where the result lies, or, when a page is asked for, the rows of that page read from the file.
   * A result that was in memory until its holder drained is still answered as rows.
   */
  private async persisted(req: Request, res: Response, { state }: QueryView, from: number, size: number) {
    const persisted = state.persistedResult;
    if (!persisted) throw new LensError('INVALID_PARAMETER_VALUE', `query ${state.handle} has no result rows`);
    if (req.query['fromindex'] === undefined && req.query['fetchsize'] === undefined && !state.movedFromMemory) {
      reply(req, res, 200, { kind: 'persistentQueryResult', value: persistentResultOf(state.handle!, persisted) });
      return;
    }
    const rows = await this.store
      .open(persisted.path)
      .then(({ stream }) =>
        readCsvPage(stream, { gzip: persisted.gzip, header: persisted.header ?? false, columns: persisted.columns, from, size, maxRowChars: this.config.results.maxRowBytes }),
      )
      .catch((error: unknown) => {
        throw persistedReadFailure(state.handle!, error);
      });
    reply(req, res, 200, { kind: 'inMemoryQueryResult', value: { rows: toRows(rows, persisted.columns) } });
  }

  private view(req: Request, raw: string): Promise<QueryView> {
    return this.queries.get(sessionIdFrom(req.query['sessionid']), queryHandleFrom(raw));
  }

  /** A result that is there; otherwise 410 saying where it went, or 400 saying why there is none. */
  private withResult(view: QueryView): QueryView {
    const { state } = view;
    if (state.status === 'SUCCESSFUL' && state.resultAvailable) return view;
    if (state.status === 'SUCCESSFUL' && state.resultGone) throw this.locator.goneError(state.handle!, state.resultGone);
    const why = state.errorMessage ? ` (${state.errorMessage})` : '';
    throw new LensError('INVALID_PARAMETER_VALUE', `query ${state.handle} has no result: it is ${state.status}${why}`);
  }
}
