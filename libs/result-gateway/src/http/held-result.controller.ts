import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import { sessionIdFrom } from '@quarry/platform';
import { HELD_RESULT_ROUTE, lensErrorFor, MAX_FETCH, QueryRefused, QueryService, queryHandleFrom, ResultReader, wholeNumber } from '@quarry/query';
import { DriverQueryError } from '@quarry/drivers';
import { SessionRefused } from '@quarry/session';
import type { Request, Response } from 'express';

/**
 * The holder's side of a forwarded page: rows this node holds, as plain JSON values, for another
 * node to render. The caller's session id comes along and is checked as for any request; a
 * failure answers `{code, message}` for the asking node to pass on as it is.
 */
@Controller(`${HELD_RESULT_ROUTE}/:handle`)
export class HeldResultController {
  constructor(
    private readonly queries: QueryService,
    private readonly reader: ResultReader,
  ) {}

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
