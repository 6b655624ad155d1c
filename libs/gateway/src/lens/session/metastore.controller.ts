import { Controller, Get, Put, Req, Res, UseFilters } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import { AnswersErrorsAs, ApiRoute, reply, SESSION_ID, sessionIdFrom } from '@quarry/platform';
import type { Request, Response } from 'express';
import { SessionErrorsFilter, SessionService } from '@quarry/session';

const MAX_NAME_BODY = 1024;

/** The part of Lens's metastore API a session needs: its current database. */
@Controller('lensapi/metastore')
@UseFilters(SessionErrorsFilter)
export class MetastoreController {
  constructor(private readonly sessions: SessionService) {}

  @ApiRoute({ tag: 'metastore', summary: "The session's current database", answer: { mediaType: 'text/plain' }, query: { sessionid: SESSION_ID }, errors: ['SESSION_ID_NOT_PROVIDED', 'SESSION_CLOSED'] })
  @Get('databases/current')
  @AnswersErrorsAs('text')
  async current(@Req() req: Request, @Res() res: Response) {
    const state = await this.sessions.get(sessionIdFrom(req.query['sessionid']));
    reply(req, res, 200, { kind: 'text', value: state.database! });
  }

  /** The body is the database name: plain text, a JSON string, or JSON already parsed by Nest. */
  @ApiRoute({ tag: 'metastore', summary: "Change the session's current database", answer: { lens: 'apiResult' }, query: { sessionid: SESSION_ID }, textBody: 'the database name (text, or a JSON string)', errors: ['SESSION_ID_NOT_PROVIDED', 'SESSION_CLOSED', 'MISSING_PARAMETERS', 'INVALID_PARAMETER_VALUE'] })
  @Put('databases/current')
  @AnswersErrorsAs('apiResult')
  async change(@Req() req: Request, @Res() res: Response) {
    const handle = sessionIdFrom(req.query['sessionid']);
    const name = await databaseNameFrom(req);
    await this.sessions.changeDatabase(handle, name);
    reply(req, res, 200, { kind: 'apiResult', value: { status: 'SUCCEEDED', message: `current database is ${name}` } });
  }
}

async function databaseNameFrom(req: Request): Promise<string> {
  if (typeof req.body === 'string') return req.body;
  if (req.body && typeof req.body === 'object' && Object.keys(req.body).length > 0) {
    throw new LensError('INVALID_PARAMETER_VALUE', 'send the database name as the body, as text');
  }
  const text = await bodyText(req, MAX_NAME_BODY);
  if (text === undefined) throw new LensError('INVALID_PARAMETER_VALUE', `a database name has at most ${MAX_NAME_BODY} bytes`);
  const trimmed = text.trim();
  if (!trimmed) throw new LensError('MISSING_PARAMETERS', 'the database name is required as the body');
  return trimmed.startsWith('"') ? jsonString(trimmed) : trimmed;
}

/**
 * The body as text, or undefined past `max` bytes. The rest is still read (and dropped), as the
 * body parsers do: leaving it unread, or destroying the stream, would cut the connection under
 * the answer.
 */
function bodyText(req: Request, max: number): Promise<string | undefined> {
  if (req.readableEnded) return Promise.resolve('');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= max) chunks.push(chunk);
    });
    req.on('end', () => resolve(bytes <= max ? Buffer.concat(chunks).toString('utf8') : undefined));
    req.on('error', reject);
  });
}

function jsonString(text: string): string {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'string') return value;
  } catch {
    // answered below
  }
  throw new LensError('INVALID_PARAMETER_VALUE', 'a quoted database name must be one JSON string');
}
