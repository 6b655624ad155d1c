import type { z } from 'zod';
import { CliError, EXIT } from '../cli-error';

export type FormFields = Record<string, string | { value: string; contentType: string }>;

export interface RestRequest {
  query?: Record<string, string | undefined>;
  form?: FormFields;
  signal?: AbortSignal;
}

/** Lens codes that mean "who you are" is the problem, not the request. */
const AUTH_CODES = new Set([9001, 1004, 2009, 9008]);
/** Answers a balancer gives when no node could take the request. */
const NO_NODE_STATUSES = new Set([502, 503, 504]);

/**
 * The Lens REST API over HTTP as a client sees it: multipart forms, JSON answers validated with
 * the contracts' schemas, and every failure turned into a CliError with its exit code.
 */
export class LensRest {
  constructor(readonly server: string) {}

  async call<S extends z.ZodTypeAny>(method: string, path: string, schema: S, request: RestRequest = {}): Promise<z.infer<S>> {
    const response = await this.send(method, path, request);
    const text = await response.text();
    if (!response.ok) throw this.failure(response, text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CliError(`${this.server} answered ${method} ${path} with something that is not JSON: ${oneLine(text)}`, EXIT.failed);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CliError(`${this.server} answered ${method} ${path} in an unexpected shape (${issue.path.join('.')}: ${issue.message})`, EXIT.failed);
    }
    return parsed.data;
  }

  private async send(method: string, path: string, request: RestRequest): Promise<Response> {
    let url: URL;
    try {
      url = new URL(path, this.server.endsWith('/') ? this.server : `${this.server}/`);
    } catch {
      throw new CliError(`--server ${JSON.stringify(this.server)} is not a URL`, EXIT.usage);
    }
    for (const [k, v] of Object.entries(request.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    let body: FormData | undefined;
    if (request.form) {
      body = new FormData();
      for (const [name, field] of Object.entries(request.form)) {
        if (typeof field === 'string') body.append(name, field);
        else body.append(name, new Blob([field.value], { type: field.contentType }));
      }
    }
    try {
      return await fetch(url, { method, body, headers: { accept: 'application/json' }, signal: request.signal });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach the server at ${this.server}: ${cause?.code ?? cause?.message ?? (error as Error).message}`, EXIT.unreachable);
    }
  }

  private failure(response: Response, text: string): CliError {
    const header = response.headers.get('x-lens-error-code');
    const code = header ? Number(header) : undefined;
    const lens = { code, httpStatus: response.status };
    const message = messageOf(text) || response.statusText || 'the request failed';
    if (code === undefined && NO_NODE_STATUSES.has(response.status)) {
      return new CliError(`no node of ${this.server} answered: ${message}`, EXIT.unreachable, lens);
    }
    if (response.status === 401 || (code !== undefined && AUTH_CODES.has(code))) return new CliError(message, EXIT.auth, lens);
    return new CliError(message, EXIT.failed, lens);
  }
}

/** The message of a Lens error answer, whichever shape the endpoint uses (text, APIResult, LensAPIResult). */
function messageOf(text: string): string {
  try {
    const json = JSON.parse(text) as { apiResult?: { message?: string }; lensAPIResult?: { error?: { message?: string } } };
    const message = json.apiResult?.message ?? json.lensAPIResult?.error?.message;
    if (message) return oneLine(message);
  } catch {
    // Plain text, as Lens answered on most endpoints.
  }
  return oneLine(text);
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 500);
