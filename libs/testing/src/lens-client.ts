import { fetchFrom } from './http';
import { waitFor } from './wait-for';

export interface LensAnswer {
  status: number;
  text: string;
  /** The Lens error code of a failed answer (header x-lens-error-code). */
  errorCode?: number;
  /** Where a redirect points (only seen with `redirect: 'manual'`). */
  location?: string;
  header(name: string): string | undefined;
  json<T = Record<string, unknown>>(): T;
}

export interface OpenedSession {
  /** The raw XML of the handle, as the Python client keeps and sends it. */
  xml: string;
  publicId: string;
  secretId: string;
}

type Fields = Record<string, string | { value: string; contentType?: string; filename?: string }>;

export interface RequestOptions {
  query?: Record<string, string>;
  form?: Fields;
  body?: string;
  accept?: string;
  headers?: Record<string, string>;
  redirect?: 'follow' | 'manual';
  timeoutMs?: number;
}

/**
 * A Lens client as the real ones behave on the wire: multipart forms, sessionid as XML text.
 * `localAddress` (such as 127.0.0.2) makes it a client on another address of this machine.
 */
export class LensClient {
  constructor(
    readonly baseUrl: string,
    readonly options: { localAddress?: string } = {},
  ) {}

  async request(method: string, path: string, options: RequestOptions = {}): Promise<LensAnswer> {
    // A path of the Lens API (`session/params`), or any path of the node from its root (`/health`).
    const url = new URL(path.startsWith('/') ? `${this.baseUrl}${path}` : `${this.baseUrl}/lensapi/${path}`);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    let body: FormData | string | undefined = options.body;
    if (options.form) {
      const form = new FormData();
      for (const [name, field] of Object.entries(options.form)) {
        if (typeof field === 'string') form.append(name, field);
        else form.append(name, new Blob([field.value], { type: field.contentType ?? '' }), field.filename);
      }
      body = form;
    }
    const headers: Record<string, string> = { ...(options.accept ? { accept: options.accept } : {}), ...options.headers };
    const init: RequestInit = { method, body, headers, redirect: options.redirect ?? 'follow', signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) };
    const response = this.options.localAddress ? await fetchFrom(this.options.localAddress, url, init) : await fetch(url, init);
    const text = await response.text();
    const code = response.headers.get('x-lens-error-code');
    const location = response.headers.get('location') ?? undefined;
    return {
      status: response.status,
      text,
      errorCode: code ? Number(code) : undefined,
      location,
      header: (name) => response.headers.get(name) ?? undefined,
      json: () => JSON.parse(text),
    };
  }

  async open(userName: string, options: { password?: string; database?: string; conf?: string } = {}): Promise<OpenedSession> {
    const form: Fields = { username: userName, password: options.password ?? '' };
    if (options.database) form['database'] = options.database;
    if (options.conf) form['sessionconf'] = { value: options.conf, contentType: 'application/xml' };
    const answer = await this.request('POST', 'session', { form, accept: 'application/xml' });
    if (answer.status !== 200) throw new Error(`open failed: ${answer.status} ${answer.text}`);
    const publicId = /<publicId>([^<]+)<\/publicId>/.exec(answer.text)?.[1];
    const secretId = /<secretId>([^<]+)<\/secretId>/.exec(answer.text)?.[1];
    if (!publicId || !secretId) throw new Error(`no handle in ${answer.text}`);
    return { xml: answer.text, publicId, secretId };
  }

  params(session: { xml: string }, key?: string, accept = 'application/json'): Promise<LensAnswer> {
    return this.request('GET', 'session/params', { query: { sessionid: session.xml, ...(key ? { key } : {}) }, accept });
  }

  setParam(session: { xml: string }, key: string, value: string): Promise<LensAnswer> {
    return this.request('PUT', 'session/params', { form: { sessionid: session.xml, key, value }, accept: 'application/json' });
  }

  addResource(session: { xml: string }, type: string, path: string): Promise<LensAnswer> {
    return this.request('PUT', 'session/resources/add', { form: { sessionid: session.xml, type, path }, accept: 'application/json' });
  }

  listResources(session: { xml: string }): Promise<LensAnswer> {
    return this.request('GET', 'session/resources/list', { query: { sessionid: session.xml }, accept: 'application/json' });
  }

  close(session: { xml: string }): Promise<LensAnswer> {
    return this.request('DELETE', 'session', { query: { sessionid: session.xml }, accept: 'application/json' });
  }

  /** Waits until the node answers GET /lensapi/session. */
  async ready(): Promise<void> {
    await waitFor(`${this.baseUrl} to serve the session API`, async () => (await this.request('GET', 'session')).status === 200);
  }
}

/** `elements` of a StringList answered in JSON (absent when empty, as in Lens). */
export function elementsOf(answer: LensAnswer): string[] {
  return answer.json<{ stringList: { elements?: string[] } }>().stringList.elements ?? [];
}

/** A query's or session's conf as Lens clients send it (the `conf` / `sessionconf` form field). */
export const confXml = (entries: Record<string, string>) =>
  `<conf><properties>${Object.entries(entries).map(([k, v]) => `<entry><key>${k}</key><value>${v}</value></entry>`).join('')}</properties></conf>`;
