import { once } from 'node:events';
import { createServer, IncomingMessage, request, ServerResponse, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'node:querystring';
import { DbPurposes, FastRoutes, QuarryMetrics } from '@quarry/platform';
import { answerFastRoutesFirst } from './fast-routes-first';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('FastRoutes ahead of Express', () => {
  let server: Server;
  let port: number;
  let leaving = false;
  let fullWay = 0;
  const purposes = new DbPurposes(true);
  const seenPurposes: string[] = [];
  let reads = 0;
  const metrics = new QuarryMetrics();
  let expressPrototypes: { request: object; response: object };

  beforeAll(async () => {
    const routes = new FastRoutes();
    routes.get('/fast', async (query) => {
      reads++;
      seenPurposes.push(purposes.current());
      if (query['fail'] !== undefined) throw new Error('refused');
      return { kind: 'stringList', value: { elements: [`key=${String(query['key'])}`] } };
    });
    routes.get('/items/:id', async (_query, id) => ({ kind: 'stringList', value: { elements: [`id=${id}`] } }));
    // Stands for Express's app.request and app.response: the fast POST's objects must have them as prototypes.
    const prototypes = {
      request: Object.create(IncomingMessage.prototype, { madeBy: { value: 'express' } }),
      response: Object.create(ServerResponse.prototype, { answer: { value(this: ServerResponse, text: string) { this.setHeader('Content-Type', 'text/plain'); this.end(text); } } }),
    };
    routes.post('/submit', async (req, res) => {
      seenPurposes.push(purposes.current());
      let body = '';
      for await (const chunk of req) body += String(chunk);
      const madeBy = (req as unknown as { madeBy: string }).madeBy;
      (res as unknown as { answer(text: string): void }).answer(`fast ${madeBy} ${req.originalUrl} ${res.req === req} ${body.length}`);
    });
    expressPrototypes = prototypes;
    routes.get('/throws-at-once', () => {
      throw new Error('not even a promise');
    });
    // Stands for Express: answers whatever reaches it as "full way".
    server = createServer((_req, res) => {
      fullWay++;
      res.setHeader('Content-Type', 'text/plain');
      res.end('full way');
    });
    answerFastRoutesFirst(server, {
      routes,
      metrics,
      purposes,
      isLeaving: () => leaving,
      express: { parseQuery: (q) => parse(q), etagOf: (body) => `W/"${body.length.toString(16)}"`, poweredBy: true, prototypes: expressPrototypes },
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => new Promise((done) => server.close(done)));

  beforeEach(() => {
    fullWay = 0;
    leaving = false;
  });

  const get = (path: string, headers: Record<string, string> = {}, method = 'GET', body?: string) =>
    new Promise<Answer>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('answers a plain GET of its path itself, with the headers Express would write, under the lens purpose', async () => {
    const answer = await get('/fast?key=a%20b', { accept: 'application/json' });
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('{"stringList":{"elements":["key=a b"]}}');
    expect(answer.headers).toMatchObject({
      'x-powered-by': 'Express',
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(answer.body)),
      etag: `W/"${Buffer.byteLength(answer.body).toString(16)}"`,
    });
    expect(fullWay).toBe(0);
    expect(seenPurposes.at(-1)).toBe('lens');
    expect((await metrics.httpRequests.get()).values.some((v) => v.labels.route === '/fast' && v.labels.status === '200')).toBe(true);
  });

  it('answers a path whose pattern ends in a parameter, the segment decoded, labelled by its pattern', async () => {
    const answer = await get('/items/a%2Fb%20c', { accept: 'application/json' });
    expect([answer.status, answer.body, fullWay]).toEqual([200, '{"stringList":{"elements":["id=a/b c"]}}', 0]);
    expect((await metrics.httpRequests.get()).values.some((v) => v.labels.route === '/items/:id' && v.labels.status === '200')).toBe(true);
  });

  it('answers in XML when the client says nothing', async () => {
    const answer = await get('/fast?key=x');
    expect([answer.status, answer.headers['content-type'], fullWay]).toEqual([200, 'application/xml; charset=utf-8', 0]);
    expect(answer.body).toContain('<elements>key=x</elements>');
  });

  it.each([
    ['another path', '/fast/', {}, 'GET'],
    ['a parameter route without its parameter', '/items/', {}, 'GET'],
    ['a parameter route with a further segment', '/items/a/b', {}, 'GET'],
    ['a parameter that does not decode', '/items/%E0%A4%A', {}, 'GET'],
    ['another method', '/fast?key=a', {}, 'HEAD'],
    ['a conditional GET (If-None-Match)', '/fast?key=a', { 'if-none-match': 'W/"x"' }, 'GET'],
    ['a conditional GET (If-Modified-Since)', '/fast?key=a', { 'if-modified-since': new Date().toUTCString() }, 'GET'],
    ['a body', '/fast?key=a', { 'content-length': '2' }, 'GET'],
    ['an Accept it cannot meet', '/fast?key=a', { accept: 'text/html' }, 'GET'],
    ['a handler that throws', '/fast?fail=1', {}, 'GET'],
    ['a handler that throws before its promise', '/throws-at-once', {}, 'GET'],
  ])('leaves %s to the full way', async (_what, path, headers, method) => {
    const answer = await get(path, headers as Record<string, string>, method, 'content-length' in headers ? '{}' : undefined);
    expect([answer.status, method === 'HEAD' ? 'full way' : answer.body, fullWay]).toEqual([200, 'full way', 1]);
  });

  it('reads nothing for an Accept it cannot meet: Express answers 406 before any read', async () => {
    const before = reads;
    await get('/fast?key=a', { accept: 'text/csv' });
    expect([reads - before, fullWay]).toEqual([0, 1]);
  });

  it('leaves everything to the full way while the node leaves', async () => {
    leaving = true;
    expect((await get('/fast?key=a')).body).toBe('full way');
    expect(fullWay).toBe(1);
  });

  const form = '--b\r\nContent-Disposition: form-data; name="query"\r\n\r\nSELECT 1\r\n--b--\r\n';
  const multipart = { 'content-type': 'multipart/form-data; boundary=b', 'content-length': String(Buffer.byteLength(form)) };

  it('hands a plain multipart POST of its path to its handler, on objects made as Express makes them, under the lens purpose', async () => {
    const answer = await get('/submit?x=1', multipart, 'POST', form);
    expect([answer.status, answer.body, answer.headers['x-powered-by'], fullWay]).toEqual([200, `fast express /submit?x=1 true ${Buffer.byteLength(form)}`, 'Express', 0]);
    expect(seenPurposes.at(-1)).toBe('lens');
    expect((await metrics.httpRequests.get()).values.some((v) => v.labels.route === '/submit' && v.labels.method === 'POST' && v.labels.status === '200')).toBe(true);
  });

  it.each([
    ['another path', '/submit/', multipart],
    ['a form that is not multipart', '/submit', { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(form)) }],
    ['a body of no stated length (chunked)', '/submit', { 'content-type': multipart['content-type'], 'transfer-encoding': 'chunked' }],
    ['a body over the fast limit', '/submit', { ...multipart, 'content-length': String(2 * 1024 * 1024) }],
    ['an Expect header', '/submit', { ...multipart, expect: '100-continue' }],
    ['a conditional request', '/submit', { ...multipart, 'if-none-match': '"x"' }],
    ['an Accept it cannot meet', '/submit', { ...multipart, accept: 'text/html' }],
  ])('leaves a POST with %s to the full way', async (_what, path, headers) => {
    const answer = await postHeadersOnly(path, headers as Record<string, string>);
    expect([answer.status, answer.body, fullWay]).toEqual([200, 'full way', 1]);
  });

  /** Sends the headers and, unless the length says otherwise, the form; the full way answers without reading it. */
  const postHeadersOnly = (path: string, headers: Record<string, string>) =>
    new Promise<Answer>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
          // A body declared larger than what was sent would keep the connection waiting.
          req.destroy();
        });
      });
      req.on('error', reject);
      if (headers['content-length'] === String(2 * 1024 * 1024)) req.write(form);
      else req.end(form);
    });

  it('leaves every POST to the full way while the node leaves', async () => {
    leaving = true;
    expect((await get('/submit', multipart, 'POST', form)).body).toBe('full way');
    expect(fullWay).toBe(1);
  });
});
