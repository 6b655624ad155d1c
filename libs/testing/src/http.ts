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
