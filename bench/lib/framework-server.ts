import 'reflect-metadata';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Controller, createParamDecorator, type DynamicModule, type ExecutionContext, Get, Module, Post, Req, Res } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AnswersErrorsAs, BODY_LIMITS, FormFields, LensExceptionFilter, LOGGER, reply, SERVER_KEEP_ALIVE_MS } from '@quarry/platform';
import type { Request, Response } from 'express';
import type { FastifyReply, FastifyRequest } from 'fastify';
import multer from 'multer';
import pino from 'pino';

/*
 * One HTTP server for bench/http-framework.bench.ts, run as a process of its own so that its CPU
 * is measured alone: `node framework-server.js <raw|express|fastify>`. It listens on a free
 * loopback port, prints `listening <url>` and answers two routes until SIGTERM:
 *
 *   GET  /ping  a tiny JSON object
 *   POST /form  a multipart form of text fields, read by multer (busboy) as Quarry reads it,
 *               answered with an APIResult naming the fields, through Quarry's `reply`
 *
 * The NestJS servers carry what a Quarry route has: the global LensExceptionFilter, the error
 * shape declared with AnswersErrorsAs (its guard), and on the POST Quarry's own FormFields
 * parameter (Express) or the same multer reading of the raw request (Fastify, whose request has
 * no `req.is`).
 */

export const SERVER_KINDS = ['raw', 'express', 'fastify'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

const PING = { ok: true };
const parseForm = multer({ storage: multer.memoryStorage(), limits: BODY_LIMITS.multipart }).any();

/** The answer to POST /form: the fields received, in order, as an APIResult message. */
const formAnswer = (body: Record<string, unknown>) => ({ status: 'SUCCEEDED' as const, message: Object.keys(body).join(',') });

/** The floor: node:http alone, with the same multer reading of the form and JSON.stringify. */
function rawServer(): Server {
  const send = (res: ServerResponse, status: number, value: unknown) => {
    const body = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  return http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/ping') return send(res, 200, PING);
    if (req.method === 'POST' && req.url === '/form') {
      const withBody = req as IncomingMessage & { body?: Record<string, unknown> };
      return parseForm(withBody as never, res as never, (error: unknown) => (error ? send(res, 400, { error: String(error) }) : send(res, 200, formAnswer(withBody.body ?? {}))));
    }
    send(res, 404, { error: 'not found' });
  });
}

/** What FormFields does, on Fastify's request: multer reads the raw request, the fields are the parameter. */
const FastifyFormFields = createParamDecorator(async (_data: unknown, context: ExecutionContext) => {
  const http = context.switchToHttp();
  const raw = http.getRequest<FastifyRequest>().raw as IncomingMessage & { body?: Record<string, string> };
  await new Promise<void>((resolve, reject) => parseForm(raw as never, http.getResponse<FastifyReply>().raw as never, (error: unknown) => (error ? reject(error as Error) : resolve())));
  return { ...raw.body };
});

function benchModule(formFields: () => ParameterDecorator): DynamicModule {
  @Controller()
  @AnswersErrorsAs('text')
  class BenchController {
    @Get('ping')
    ping() {
      return PING;
    }

    @Post('form')
    @AnswersErrorsAs('apiResult')
    form(@Req() req: Request, @Res() res: Response, @formFields() body: Record<string, unknown>) {
      reply(req, res, 200, { kind: 'apiResult', value: formAnswer(body) });
    }
  }

  @Module({})
  class BenchModule {}

  return {
    module: BenchModule,
    controllers: [BenchController],
    providers: [
      { provide: LOGGER, useValue: pino({ level: 'warn' }) },
      { provide: APP_FILTER, useClass: LensExceptionFilter },
    ],
  };
}

async function nestServer(kind: 'express' | 'fastify'): Promise<Server> {
  if (kind === 'express') {
    // As a Quarry node sets Express up (libs/node-runtime/src/bootstrap/http-server.ts).
    const app = await NestFactory.create<NestExpressApplication>(benchModule(FormFields), new ExpressAdapter(), { logger: ['warn', 'error'], bodyParser: false });
    app.useBodyParser('json', { limit: BODY_LIMITS.parsedBodyBytes });
    app.useBodyParser('urlencoded', { limit: BODY_LIMITS.parsedBodyBytes, extended: true });
    await app.init();
    return app.getHttpServer() as Server;
  }
  const adapter = new FastifyAdapter({ logger: false });
  // Fastify refuses a body type it has no parser for; this one leaves the stream to FastifyFormFields.
  adapter.getInstance().addContentTypeParser('multipart/form-data', (_req, _payload, done) => done(null, undefined));
  const app = await NestFactory.create(benchModule(FastifyFormFields), adapter, { logger: ['warn', 'error'] });
  await app.init();
  await adapter.getInstance().ready();
  return app.getHttpServer() as Server;
}

async function main(): Promise<void> {
  const kind = process.argv[2] as ServerKind;
  if (!SERVER_KINDS.includes(kind)) throw new Error(`usage: framework-server <${SERVER_KINDS.join('|')}>`);
  const server = kind === 'raw' ? rawServer() : await nestServer(kind);
  server.keepAliveTimeout = SERVER_KEEP_ALIVE_MS;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  process.stdout.write(`listening http://127.0.0.1:${address.port}\n`);
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
