import { randomUUID } from 'node:crypto';
import { Controller, Delete, Get, Inject, Param, Post, Put, Req, Res, UseFilters, type OnModuleInit } from '@nestjs/common';
import { CLIENT_REQUEST_ID_MAX, LensError, QUERY_NAME_MAX, unsupportedOperation, type LensAPIResultData, type WireRoot } from '@quarry/contracts';
import { AnswersErrorsAs, ApiRoute, FastRoutes, FormFields, LOGGER, readFormFields, renderAnyError, renderLensError, SESSION_ID, reply, requiredField, sessionIdFrom, textField } from '@quarry/platform';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import {
  CONF,
  confFrom,
  isQueryError,
  lensErrorFor,
  limitedText,
  MAX_FETCH,
  persistentResultOf,
  QUERY_STATUSES,
  QueryErrorsFilter,
  QueryListing,
  QueryService,
  queryHandleFrom,
  toLensQuery,
  toMetadata,
  toRows,
  wholeNumber,
} from '@quarry/query';
import { ResultReader } from '@quarry/result';

const OPERATIONS = ['EXECUTE', 'EXECUTE_WITH_TIMEOUT', 'EXPLAIN', 'ESTIMATE'] as const;
type Fields = Record<string, unknown>;
/** The Lens query API: /lensapi/queryapi/queries. */
@Controller('lensapi/queryapi/queries')
@UseFilters(QueryErrorsFilter)
@AnswersErrorsAs('text')
export class QueryController implements OnModuleInit {
  constructor(
    private readonly queries: QueryService,
    private readonly listing: QueryListing,
    private readonly results: ResultReader,
    private readonly fastRoutes: FastRoutes,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** What clients send most, a submit and the GET they poll, are also answered ahead of Express (ADR 17) by the same code. */
  onModuleInit() {
    this.fastRoutes.get('/lensapi/queryapi/queries/:handle', (query, raw) => this.statusOf(query, raw));
    this.fastRoutes.post('/lensapi/queryapi/queries', (req, res) => this.submitAheadOfNest(req, res));
  }

  @ApiRoute({ tag: 'queries', summary: 'Submit a query (EXECUTE, EXECUTE_WITH_TIMEOUT, EXPLAIN, ESTIMATE)', answer: { lens: 'lensAPIResult' }, form: { sessionid: SESSION_ID, query: { description: 'the SQL', required: true }, operation: { description: 'EXECUTE (default), EXECUTE_WITH_TIMEOUT, EXPLAIN or ESTIMATE' }, conf: { description: 'query conf (lens.query.driver, quarry.query.request.id, ...)', xml: true }, timeoutmillis: { description: 'EXECUTE_WITH_TIMEOUT: how long to wait (ms, default 30000)' }, queryName: { description: 'a name to list it by' } }, errors: ['SESSION_ID_NOT_PROVIDED', 'SESSION_CLOSED', 'NULL_OR_EMPTY_OR_BLANK_QUERY', 'UNSUPPORTED_OPERATION', 'INVALID_PARAMETER_VALUE'] })
  @Post()
  @AnswersErrorsAs('lensAPIResult')
  async submit(@Req() req: Request, @Res() res: Response, @FormFields() body: Fields) {
    reply(req, res, 200, await this.submitted(body));
  }

  /** The submit route answered ahead of Nest: its errors as this controller's filters would answer them. */
  private async submitAheadOfNest(req: Request, res: Response): Promise<void> {
    try {
      reply(req, res, 200, await this.submitted(await readFormFields(req, res)));
    } catch (error) {
      if (isQueryError(error)) renderLensError(req, res, lensErrorFor(error), 'lensAPIResult');
      else renderAnyError(req, res, error, 'lensAPIResult', this.logger);
    }
  }

  private async submitted(body: Fields): Promise<WireRoot> {
    const handle = sessionIdFrom(body['sessionid']);
    const query = textField(body['query'], 'query')?.trim();
    if (!query) throw new LensError('NULL_OR_EMPTY_OR_BLANK_QUERY', 'the query is empty');
    const operation = (textField(body['operation'], 'operation') ?? 'EXECUTE').toUpperCase();
    if (!(OPERATIONS as readonly string[]).includes(operation)) throw unsupportedOperation(OPERATIONS);
    const conf = confFrom(body['conf']);
    limitedText(conf[CONF.requestId], CONF.requestId, CLIENT_REQUEST_ID_MAX);
    const data = await this.run(operation as (typeof OPERATIONS)[number], handle, query, conf, body);
    return { kind: 'lensAPIResult', value: { id: randomUUID(), data } };
  }

  private async run(operation: (typeof OPERATIONS)[number], handle: ReturnType<typeof sessionIdFrom>, query: string, conf: Record<string, string>, body: Fields): Promise<LensAPIResultData> {
    if (operation === 'EXPLAIN' || operation === 'ESTIMATE') {
      const { plan, estimate } = await this.queries.plan(handle, query, conf);
      const queryCost = { estimatedResourceUsage: estimate.cost, costType: estimate.costType };
      if (operation === 'ESTIMATE') return { type: 'queryCostTO', ...queryCost };
      return { type: 'queryPlan', tablesQueried: plan.tablesQueried, hasSubQuery: false, planString: plan.planString, queryCost };
    }
    const queryName = limitedText(textField(body['queryName'], 'queryName'), 'queryName', QUERY_NAME_MAX) ?? '';
    if (operation === 'EXECUTE') return { type: 'queryHandle', handleId: await this.queries.submit(handle, { query, conf, queryName }) };
    // Checked before anything is submitted: a bad value leaves no query behind.
    const timeoutMs = wholeNumber(body['timeoutmillis'], 'timeoutmillis', 30_000, 0, 3_600_000);
    const submitted = await this.queries.submitAndWait(handle, { query, conf, queryName }, timeoutMs);
    const queryHandle = submitted.queryHandle;
    let view = submitted.view;
    if (view.state.status !== 'SUCCESSFUL' && ['QUEUED', 'LAUNCHED', 'RUNNING', 'EXECUTED'].includes(view.state.status)) {
      if ((conf[CONF.cancelOnTimeout] ?? view.state.conf[CONF.cancelOnTimeout]) === 'true') {
        await this.queries.cancel(handle, queryHandle).catch(() => undefined);
        view = await this.queries.get(handle, queryHandle);
      }
    }
    const answer = { type: 'queryHandleWithResultSet' as const, queryHandle: { handleId: queryHandle }, status: toLensQuery(view).status };
    if (view.state.status !== 'SUCCESSFUL') return answer;
    const persisted = view.state.persistedResult;
    if (persisted) return { ...answer, result: { type: 'persistentQueryResult', ...persistentResultOf(queryHandle, persisted) }, resultMetadata: toMetadata(persisted.columns) };
    if (!view.state.resultAvailable) return answer;
    const read = await this.results.page(view, { session: handle, sessionId: textField(body['sessionid'], 'sessionid')!, from: 0, size: MAX_FETCH, remote: 'fetch' });
    if (read.kind !== 'rows') return answer;
    const { rows, columns } = read.page;
    return { ...answer, result: { type: 'inMemoryQueryResult', rows: toRows(rows, columns) }, resultMetadata: toMetadata(columns) };
  }

  /** The caller's queries, filtered as Lens allowed. */
  @ApiRoute({ tag: 'queries', summary: "The caller's query handles", answer: { lensList: 'queryHandles' }, query: { sessionid: SESSION_ID, state: { description: 'comma list of states' }, queryName: { description: 'by name' }, driver: { description: 'by selected driver' }, fromDate: { description: 'submitted at or after (epoch ms)' }, toDate: { description: 'submitted before (epoch ms)' } }, errors: ['SESSION_ID_NOT_PROVIDED', 'SESSION_CLOSED', 'INVALID_PARAMETER_VALUE'] })
  @Get()
  async list(@Req() req: Request, @Res() res: Response) {
    const handle = sessionIdFrom(req.query['sessionid']);
    const states = textField(req.query['state'], 'state')?.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
    const unknown = states?.filter((s) => !(QUERY_STATUSES as readonly string[]).includes(s));
    if (unknown?.length) throw new LensError('INVALID_PARAMETER_VALUE', `unknown state ${unknown.join(', ')}`);
    const date = (name: string) => {
      const value = wholeNumber(req.query[name], name, -1, 0, Number.MAX_SAFE_INTEGER);
      return value < 0 ? undefined : new Date(value);
    };
    const { userName } = await this.queries.owner(handle);
    const handles = await this.listing.handles({
      userName,
      states,
      queryName: textField(req.query['queryName'], 'queryName') || undefined,
      driver: textField(req.query['driver'], 'driver') || undefined,
      fromDate: date('fromDate'),
      toDate: date('toDate'),
    });
    reply(req, res, 200, { kind: 'queryHandleList', value: handles.map((handleId) => ({ handleId })) });
  }

  @ApiRoute({ tag: 'queries', summary: 'A query: status, driver, times', answer: { lens: 'lensQuery' }, params: { handle: 'the query handle (a UUID)' }, query: { sessionid: SESSION_ID }, errors: ['SESSION_ID_NOT_PROVIDED', 'SESSION_CLOSED', 'INVALID_HANDLE', 'RESOURCE_NOT_FOUND'] })
  @Get(':handle')
  async get(@Req() req: Request, @Res() res: Response, @Param('handle') raw: string) {
    reply(req, res, 200, await this.statusOf(req.query, raw));
  }

  private async statusOf(query: Record<string, unknown>, raw: string | undefined): Promise<WireRoot> {
    const view = await this.queries.get(sessionIdFrom(query['sessionid']), queryHandleFrom(raw ?? ''));
    return { kind: 'lensQuery', value: toLensQuery(view) };
  }

  @ApiRoute({ tag: 'queries', summary: 'Cancel a query (FAILED when it was not running)', answer: { lens: 'apiResult' }, params: { handle: 'the query handle (a UUID)' }, query: { sessionid: SESSION_ID }, errors: ['SESSION_ID_NOT_PROVIDED', 'SESSION_CLOSED', 'INVALID_HANDLE', 'RESOURCE_NOT_FOUND'] })
  @Delete(':handle')
  @AnswersErrorsAs('apiResult')
  async cancel(@Req() req: Request, @Res() res: Response, @Param('handle') raw: string) {
    const queryHandle = queryHandleFrom(raw);
    await this.queries.cancel(sessionIdFrom(req.query['sessionid']), queryHandle);
    reply(req, res, 200, { kind: 'apiResult', value: { status: 'SUCCEEDED', message: `query ${queryHandle} canceled` } });
  }

  @ApiRoute({ tag: 'queries', summary: "Change a queued query's conf", answer: { lens: 'apiResult' }, params: { handle: 'the query handle (a UUID)' }, form: { sessionid: SESSION_ID, conf: { description: 'the new conf entries', xml: true, required: true } }, errors: ['SESSION_ID_NOT_PROVIDED', 'SESSION_CLOSED', 'INVALID_HANDLE', 'RESOURCE_NOT_FOUND', 'MISSING_PARAMETERS', 'INVALID_PARAMETER_VALUE'] })
  @Put(':handle')
  @AnswersErrorsAs('apiResult')
  async updateConf(@Req() req: Request, @Res() res: Response, @Param('handle') raw: string, @FormFields() body: Fields) {
    const queryHandle = queryHandleFrom(raw);
    await this.queries.updateConf(sessionIdFrom(body['sessionid']), queryHandle, confFrom(requiredField(body['conf'], 'conf')));
    reply(req, res, 200, { kind: 'apiResult', value: { status: 'SUCCEEDED', message: `conf of ${queryHandle} updated` } });
  }

}
