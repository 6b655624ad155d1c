import { Controller, Delete, Get, Inject, Post, Put, Req, Res, UseFilters, type OnModuleInit } from '@nestjs/common';
import { LensError, parseLensConf, type ResourceType, type WireRoot } from '@quarry/contracts';
import { AnswersErrorsAs, FastGets, FormFields, QUARRY_CONFIG, reply, requiredField, sessionIdFrom, textField, type QuarryConfig } from '@quarry/platform';
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
    private readonly fastGets: FastGets,
  ) {}

  /** GET params, the hottest session read, is also answered ahead of Express (ADR 17) by the same code. */
  onModuleInit() {
    this.fastGets.add('/lensapi/session/params', (query) => this.paramsOf(query));
  }

  @Get()
  up(@Req() req: Request, @Res() res: Response) {
    reply(req, res, 200, { kind: 'text', value: 'session is up!' });
  }

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

  @Delete()
  @AnswersErrorsAs('apiResult')
  async close(@Req() req: Request, @Res() res: Response) {
    const handle = sessionIdFrom(req.query['sessionid']);
    await this.sessions.close(handle);
    reply(req, res, 200, OK(`session ${handle.publicId} closed`));
  }

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

  @Put('params')
  @AnswersErrorsAs('apiResult')
  async setParam(@Req() req: Request, @Res() res: Response, @FormFields() body: Fields) {
    const handle = sessionIdFrom(body['sessionid']);
    const key = requiredField(body['key'], 'key');
    await this.sessions.setParam(handle, key, textField(body['value'], 'value') ?? '');
    reply(req, res, 200, OK(`${key} set`));
  }

  @Put('resources/add')
  @AnswersErrorsAs('apiResult')
  addResource(@Req() req: Request, @Res() res: Response, @FormFields() body: Fields) {
    return this.changeResource(req, res, body, 'added', (handle, type, path) => this.sessions.addResource(handle, type, path));
  }

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

  @Get('resources/list')
  async listResources(@Req() req: Request, @Res() res: Response) {
    const handle = sessionIdFrom(req.query['sessionid']);
    const elements = await this.sessions.listResources(handle, resourceTypeFrom(req.query['type'], false));
    reply(req, res, 200, { kind: 'stringList', value: { elements } });
  }

  /** The caller's own sessions (by sessionid), or all of them with the admin token. */
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
