import { Controller, Delete, Get, Inject, Post, Put, Req, Res, UseFilters, type OnModuleInit } from '@nestjs/common';
import { LensError, parseLensConf, type ResourceType, type WireRoot } from '@quarry/contracts';
import { AnswersErrorsAs, ApiRoute, FastRoutes, SESSION_ID, FormFields, QUARRY_CONFIG, reply, requiredField, sessionIdFrom, textField, type QuarryConfig } from '@quarry/platform';
import type { Request, Response } from 'express';
import { SessionErrorsFilter, SessionService, type SessionHandle } from '@quarry/session';
import { resourceTypeFrom } from './resource-type';

type Fields = Record<string, unknown>;
const OK = (message: string) => ({ kind: 'apiResult' as const, value: { status: 'SUCCEEDED' as const, message } });

/**
 * The Lens session API: /lensapi/session. Every answer in XML or JSON, as the client asks. As in
 * Lens, endpoints that answer APIResult report failure as FAILED; the others as plain text.
 */
@Controller('lensapi/session')
@UseFilters(SessionErrorsFilter)
@AnswersErrorsAs('text')
export class SessionController implements OnModuleInit {
  constructor(
    private readonly sessions: SessionService,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
    private readonly fastRoutes: FastRoutes,
  ) {}

  /** GET params, the hottest session read, is also answered ahead of Express (ADR 17) by the same code. */
  onModuleInit() {
    this.fastRoutes.get('/lensapi/session/params', (query) => this.paramsOf(query));
  }

  @ApiRoute({ tag: 'session', summary: 'Is the session API up', answer: { mediaType: 'text/plain' } })
  @Get()
  up(@Req() req: Request, @Res() res: Response) {
    reply(req, res, 200, { kind: 'text', value: 'session is up!' });
  }

  @ApiRoute({ tag: 'session', summary: 'Open a session', answer: { lens: 'lensSessionHandle' }, form: { username: { description: 'user name', required: true }, password: { description: 'password (QUARRY_AUTH=file)' }, database: { description: 'the current database' }, sessionconf: { description: 'session conf', xml: true } }, errors: ['MISSING_PARAMETERS', 'INVALID_PARAMETER_VALUE', 'BAD_CREDENTIALS', 'TOO_MANY_OPEN_SESSIONS', 'TOO_MANY_LOGIN_ATTEMPTS'] })
  @Post()
  async open(@Req() req: Request, @Res() res: Response, @FormFields() body: Fields) {
    const conf = parseLensConf(textField(body['sessionconf'], 'sessionconf'));
    if (!conf.ok) throw new LensError('INVALID_PARAMETER_VALUE', `sessionconf cannot be read: ${conf.reason}`);
    const handle = await this.sessions.open({
      userName: requiredField(body['username'], 'username'),
      password: textField(body['password'], 'password') ?? '',
      database: textField(body['database'], 'database'),
      conf: conf.conf,
      clientAddress: req.ip ?? 'unknown',
    });
    reply(req, res, 200, { kind: 'lensSessionHandle', value: handle });
  }

  @ApiRoute({ tag: 'session', summary: 'Close a session', answer: { lens: 'apiResult' }, query: { sessionid: SESSION_ID }, errors: ['SESSION_ID_NOT_PROVIDED', 'SESSION_CLOSED'] })
  @Delete()
  @AnswersErrorsAs('apiResult')
  async close(@Req() req: Request, @Res() res: Response) {
    const handle = sessionIdFrom(req.query['sessionid']);
    await this.sessions.close(handle);
    reply(req, res, 200, OK(`session ${handle.publicId} closed`));
  }

  @ApiRoute({ tag: 'session', summary: 'Session parameters (all, or one by key)', answer: { lens: 'stringList' }, query: { sessionid: SESSION_ID, key: { description: 'one parameter' }, verbose: { description: 'true: every known parameter' } }, errors: ['SESSION_ID_NOT_PROVIDED', 'SESSION_CLOSED', 'RESOURCE_NOT_FOUND'] })
  @Get('params')
  async params(@Req() req: Request, @Res() res: Response) {
    reply(req, res, 200, await this.paramsOf(req.query));
  }

  private async paramsOf(query: Record<string, unknown>): Promise<WireRoot> {
    const handle = sessionIdFrom(query['sessionid']);
    const key = textField(query['key'], 'key') || undefined;
    const verbose = textField(query['verbose'], 'verbose') === 'true';
    return { kind: 'stringList', value: { elements: await this.sessions.params(handle, key, verbose) } };
  }

  @ApiRoute({ tag: 'session', summary: 'Set a session parameter', answer: { lens: 'apiResult' }, form: { sessionid: SESSION_ID, key: { description: 'parameter', required: true }, value: { description: 'its value' } }, errors: ['SESSION_ID_NOT_PROVIDED', 'SESSION_CLOSED', 'MISSING_PARAMETERS', 'INVALID_PARAMETER_VALUE'] })
  @Put('params')
  @AnswersErrorsAs('apiResult')
  async setParam(@Req() req: Request, @Res() res: Response, @FormFields() body: Fields) {
    const handle = sessionIdFrom(body['sessionid']);
    const key = requiredField(body['key'], 'key');
    await this.sessions.setParam(handle, key, textField(body['value'], 'value') ?? '');
    reply(req, res, 200, OK(`${key} set`));
  }

  @ApiRoute({ tag: 'session', summary: 'Add a resource (jar, file, archive; .sql files run before the first query)', answer: { lens: 'apiResult' }, form: { sessionid: SESSION_ID, type: { description: 'jar, file or archive', required: true }, path: { description: 'a path under QUARRY_RESOURCE_ROOTS', required: true } }, errors: ['SESSION_ID_NOT_PROVIDED', 'SESSION_CLOSED', 'MISSING_PARAMETERS', 'INVALID_PARAMETER_VALUE'] })
  @Put('resources/add')
  @AnswersErrorsAs('apiResult')
  addResource(@Req() req: Request, @Res() res: Response, @FormFields() body: Fields) {
    return this.changeResource(req, res, body, 'added', (handle, type, path) => this.sessions.addResource(handle, type, path));
  }

  @ApiRoute({ tag: 'session', summary: 'Delete a resource', answer: { lens: 'apiResult' }, form: { sessionid: SESSION_ID, type: { description: 'jar, file or archive', required: true }, path: { description: 'the path added', required: true } }, errors: ['SESSION_ID_NOT_PROVIDED', 'SESSION_CLOSED', 'MISSING_PARAMETERS', 'INVALID_PARAMETER_VALUE'] })
  @Put('resources/delete')
  @AnswersErrorsAs('apiResult')
  deleteResource(@Req() req: Request, @Res() res: Response, @FormFields() body: Fields) {
    return this.changeResource(req, res, body, 'deleted', (handle, type, path) => this.sessions.deleteResource(handle, type, path));
  }

  private async changeResource(req: Request, res: Response, body: Fields, done: string, change: (handle: SessionHandle, type: ResourceType, path: string) => Promise<void>) {
    const handle = sessionIdFrom(body['sessionid']);
    const path = requiredField(body['path'], 'path');
    await change(handle, resourceTypeFrom(body['type'], true)!, path);
    reply(req, res, 200, OK(`${done} ${path}`));
  }

  @ApiRoute({ tag: 'session', summary: 'Resources of the session, as type:path', answer: { lens: 'stringList' }, query: { sessionid: SESSION_ID, type: { description: 'only this type' } }, errors: ['SESSION_ID_NOT_PROVIDED', 'SESSION_CLOSED', 'INVALID_PARAMETER_VALUE'] })
  @Get('resources/list')
  async listResources(@Req() req: Request, @Res() res: Response) {
    const handle = sessionIdFrom(req.query['sessionid']);
    const elements = await this.sessions.listResources(handle, resourceTypeFrom(req.query['type'], false));
    reply(req, res, 200, { kind: 'stringList', value: { elements } });
  }

  /** The caller's own sessions (by sessionid), or all of them with the admin token. */
  @ApiRoute({ tag: 'session', summary: "The caller's sessions (everyone's with the admin token as Authorization: Bearer)", answer: { lensList: 'userSessionInfoes' }, query: { sessionid: { description: SESSION_ID.description } }, errors: ['SESSION_ID_NOT_PROVIDED', 'SESSION_CLOSED'] })
  @Get('sessions')
  async list(@Req() req: Request, @Res() res: Response) {
    const token = this.config.auth.adminToken;
    const admin = token !== undefined && req.headers.authorization === `Bearer ${token}`;
    const scope = admin ? ('all' as const) : { userName: (await this.sessions.get(sessionIdFrom(req.query['sessionid']))).userName! };
    const sessions = await this.sessions.list(scope);
    reply(req, res, 200, {
      kind: 'userSessionInfoList',
      value: sessions.map((s) => ({
        handle: s.publicId,
        userName: s.userName,
        activeQueries: [],
        creationTime: s.openedAt.getTime(),
        lastAccessTime: s.lastAccess.getTime(),
      })),
    });
  }
}
