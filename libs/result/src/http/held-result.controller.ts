import { Controller, Get, Param, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import { AnswersErrorsAs, ApiClusterSecret, ApiRoute, ClusterPeersOnly, SESSION_ID, sessionIdFrom } from '@quarry/platform';
import { lensErrorFor, MAX_FETCH, QueryErrorsFilter, QueryRefused, QueryService, queryHandleFrom, wholeNumber } from '@quarry/query';
import { DriverQueryError } from '@quarry/drivers';
import { SessionRefused } from '@quarry/session';
import type { Request, Response } from 'express';
import { ResultReader } from '../application/result-reader';
import { HELD_RESULT_ROUTE } from '../remote/remote-results';
import { ResultsetPages } from './resultset-pages';

/**
 * The holder's side of a forwarded page, for the other nodes of the cluster only (the cluster
 * secret). The caller's session id comes along and is checked as for any request.
 */
@ApiClusterSecret()
@Controller(`${HELD_RESULT_ROUTE}/:handle`)
@UseGuards(ClusterPeersOnly)
export class HeldResultController {
  constructor(
    private readonly queries: QueryService,
    private readonly reader: ResultReader,
    private readonly pages: ResultsetPages,
  ) {}

  /** A client's GET .../resultset that another node forwarded here: answered as to the client, never forwarded again. */
  @ApiRoute({ tag: 'internal (node to node)', summary: 'A resultset request another node forwarded to the holder', answer: { lens: 'inMemoryQueryResult' }, params: { handle: 'the query handle (a UUID)' }, query: { sessionid: SESSION_ID, fromindex: { description: 'first row' }, fetchsize: { description: 'rows' } }, errors: ['INVALID_HANDLE', 'RESOURCE_NOT_FOUND', 'RESULT_GONE', 'RESULT_UNAVAILABLE', 'NOT_AUTHORIZED'] })
  @Get('resultset')
  @UseFilters(QueryErrorsFilter)
  @AnswersErrorsAs('text')
  resultset(@Req() req: Request, @Res() res: Response, @Param('handle') raw: string) {
    return this.pages.answer(req, res, raw, 'refuse');
  }

  /** Rows this node holds, as plain JSON values, for another node to render; a failure answers `{code, message}` for it to pass on. */
  @ApiRoute({ tag: 'internal (node to node)', summary: 'A page of a result this node holds, as plain JSON values', answer: { json: { type: 'object' } }, params: { handle: 'the query handle (a UUID)' }, query: { sessionid: SESSION_ID, fromindex: { description: 'first row' }, fetchsize: { description: 'rows' } }, errors: ['INVALID_HANDLE', 'RESOURCE_NOT_FOUND', 'RESULT_UNAVAILABLE', 'NOT_AUTHORIZED'] })
  @Get()
  async page(@Req() req: Request, @Res() res: Response, @Param('handle') raw: string) {
    try {
      const view = await this.queries.get(sessionIdFrom(req.query['sessionid']), queryHandleFrom(raw));
      if (view.state.status !== 'SUCCESSFUL') throw new LensError('INVALID_PARAMETER_VALUE', `query ${view.state.handle} has no result: it is ${view.state.status}`);
      const from = wholeNumber(req.query['fromindex'], 'fromindex', 0, 0, Number.MAX_SAFE_INTEGER);
      const size = wholeNumber(req.query['fetchsize'], 'fetchsize', MAX_FETCH, 1, MAX_FETCH);
      const session = { session: sessionIdFrom(req.query['sessionid']), sessionId: String(req.query['sessionid']) };
      const answer = await this.reader.page(view, { ...session, from, size, remote: 'refuse' });
      if (answer.kind !== 'rows') throw new LensError('RESULT_UNAVAILABLE', `query ${view.state.handle} has no in-memory result here`);
      res.status(200).json(answer.page);
    } catch (error) {
      const lens = error instanceof LensError ? error : isRefusal(error) ? lensErrorFor(error) : undefined;
      if (!lens) throw error;
      res.status(lens.httpStatus).json({ code: lens.code, message: lens.message });
    }
  }
}

function isRefusal(error: unknown): error is QueryRefused | SessionRefused | DriverQueryError {
  return error instanceof QueryRefused || error instanceof SessionRefused || error instanceof DriverQueryError;
}
