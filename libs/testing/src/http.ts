import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface HttpAnswer<T = unknown> {
  status: number;
  body: T;
}

/** GET a JSON document; network errors surface as exceptions (callers wait on them). */
export async function getJson<T = Record<string, unknown>>(url: string): Promise<HttpAnswer<T>> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/**
 * A GET to 127.0.0.1:`port` with its request target exactly as given: a whole URL (absolute form,
 * `GET http://host/path HTTP/1.1`, as sent to a proxy) or a path with `..` or `//` in it, which
 * fetch would never write. The Host header names the target's host.
 */
export function getRequestTarget(port: number, target: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  const host = new URL(target, `http://127.0.0.1:${port}`).host;
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, method: 'GET', path: target, agent: false, headers: { host, ...headers } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text }));
      response.on('error', reject);
    });
    request.setTimeout(10_000, () => request.destroy(new Error(`no answer to GET ${target} within 10 s`)));
    request.on('error', reject);
    request.end();
  });
}

/**
 * fetch() from a chosen local address (fetch cannot bind one): the body and its Content-Type are
 * encoded by fetch's own Request, then sent with node:http. No redirects are followed.
 */
export async function fetchFrom(localAddress: string, url: URL, init: RequestInit): Promise<Response> {
  const encoded = new Request(url, init);
  const body = Buffer.from(await encoded.arrayBuffer());
  const headers = Object.fromEntries(encoded.headers);
  return new Promise<Response>((resolve, reject) => {
    const req = httpRequest(url, { method: init.method, headers: { ...headers, 'content-length': String(body.length) }, localAddress, signal: init.signal ?? undefined }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const answerHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) answerHeaders.set(name, String(value));
        resolve(new Response(res.statusCode === 204 ? null : Buffer.concat(chunks), { status: res.statusCode, headers: answerHeaders }));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
