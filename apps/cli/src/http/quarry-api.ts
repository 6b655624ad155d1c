import {
  ApiResultAnswerSchema,
  ClusterNodesAnswerSchema,
  LensQueryAnswerSchema,
  QueryHandleListAnswerSchema,
  ResultPageAnswerSchema,
  ResultSetMetadataAnswerSchema,
  SessionHandleAnswerSchema,
  StringListAnswerSchema,
  SubmitAnswerSchema,
  type ClusterNodeAnswer,
  type LensQueryAnswer,
  type ResultCell,
} from '@quarry/contracts';
import { CliError, EXIT } from '../cli-error';
import { LensRest, type FormFields } from './lens-rest';

export interface SessionKey {
  publicId: string;
  secretId: string;
}

/** Most rows one resultset page may hold (the server's limit). */
export const PAGE_SIZE = 10_000;

/** The sessionid parameter: the handle's own XML, as Lens's Java client sends it. */
const sessionId = (s: SessionKey) => `<lensSessionHandle><publicId>${s.publicId}</publicId><secretId>${s.secretId}</secretId></lensSessionHandle>`;

/** A Lens conf document (the `conf` / `sessionconf` form fields). */
export function confField(entries: Record<string, string>): { value: string; contentType: string } {
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const items = Object.entries(entries).map(([k, v]) => `<entry><key>${escape(k)}</key><value>${escape(v)}</value></entry>`);
  return { value: `<conf><properties>${items.join('')}</properties></conf>`, contentType: 'application/xml' };
}

/** The calls the CLI makes, each one Lens (or cluster) route. */
export class QuarryApi {
  private readonly rest: LensRest;

  constructor(readonly server: string) {
    this.rest = new LensRest(server);
  }

  async openSession(user: string, password: string, options: { database?: string; conf?: Record<string, string> } = {}): Promise<SessionKey> {
    const form: FormFields = { username: user, password };
    if (options.database) form['database'] = options.database;
    if (options.conf && Object.keys(options.conf).length) form['sessionconf'] = confField(options.conf);
    return (await this.rest.call('POST', 'lensapi/session', SessionHandleAnswerSchema, { form })).lensSessionHandle;
  }

  async closeSession(session: SessionKey): Promise<void> {
    succeeded(await this.rest.call('DELETE', 'lensapi/session', ApiResultAnswerSchema, { query: { sessionid: sessionId(session) } }));
  }

  async params(session: SessionKey, key?: string): Promise<string[]> {
    const answer = await this.rest.call('GET', 'lensapi/session/params', StringListAnswerSchema, { query: { sessionid: sessionId(session), key } });
    return answer.stringList.elements ?? [];
  }

  async setParam(session: SessionKey, key: string, value: string): Promise<void> {
    succeeded(await this.rest.call('PUT', 'lensapi/session/params', ApiResultAnswerSchema, { form: { sessionid: sessionId(session), key, value } }));
  }

  async addResource(session: SessionKey, type: string, path: string): Promise<void> {
    succeeded(await this.rest.call('PUT', 'lensapi/session/resources/add', ApiResultAnswerSchema, { form: { sessionid: sessionId(session), type, path } }));
  }

  async resources(session: SessionKey): Promise<string[]> {
    const answer = await this.rest.call('GET', 'lensapi/session/resources/list', StringListAnswerSchema, { query: { sessionid: sessionId(session) } });
    return answer.stringList.elements ?? [];
  }

  async submit(session: SessionKey, query: string, options: { conf?: Record<string, string>; name?: string } = {}): Promise<string> {
    const form: FormFields = { sessionid: sessionId(session), query, operation: 'EXECUTE' };
    if (options.conf && Object.keys(options.conf).length) form['conf'] = confField(options.conf);
    if (options.name) form['queryName'] = options.name;
    const answer = (await this.rest.call('POST', 'lensapi/queryapi/queries', SubmitAnswerSchema, { form })).lensAPIResult;
    if (!answer.data) throw new CliError(answer.error?.message ?? 'the server gave no query handle', EXIT.failed, { code: answer.error?.code, httpStatus: 200 });
    return answer.data.handleId;
  }

  async query(session: SessionKey, handle: string, signal?: AbortSignal): Promise<LensQueryAnswer> {
    return (await this.rest.call('GET', `lensapi/queryapi/queries/${encodeURIComponent(handle)}`, LensQueryAnswerSchema, { query: { sessionid: sessionId(session) }, signal })).lensQuery;
  }

  async queries(session: SessionKey, filter: { state?: string; name?: string } = {}): Promise<string[]> {
    const answer = await this.rest.call('GET', 'lensapi/queryapi/queries', QueryHandleListAnswerSchema, {
      query: { sessionid: sessionId(session), state: filter.state, queryName: filter.name },
    });
    return answer.map((item) => item.queryHandle.handleId);
  }

  async cancel(session: SessionKey, handle: string): Promise<void> {
    succeeded(await this.rest.call('DELETE', `lensapi/queryapi/queries/${encodeURIComponent(handle)}`, ApiResultAnswerSchema, { query: { sessionid: sessionId(session) } }));
  }

  async columns(session: SessionKey, handle: string): Promise<{ name: string; type: string }[]> {
    const path = `lensapi/queryapi/queries/${encodeURIComponent(handle)}/resultsetmetadata`;
    return (await this.rest.call('GET', path, ResultSetMetadataAnswerSchema, { query: { sessionid: sessionId(session) } })).queryResultSetMetadata.columns;
  }

  /** Rows `from` on, at most PAGE_SIZE; always rows, also for a persisted result (fromindex asks for them). */
  async page(session: SessionKey, handle: string, from: number): Promise<ResultCell[][]> {
    const path = `lensapi/queryapi/queries/${encodeURIComponent(handle)}/resultset`;
    const query = { sessionid: sessionId(session), fromindex: String(from), fetchsize: String(PAGE_SIZE) };
    const answer = await this.rest.call('GET', path, ResultPageAnswerSchema, { query });
    return (answer.inMemoryQueryResult.rows ?? []).map((row) => row.values);
  }

  async nodes(): Promise<ClusterNodeAnswer[]> {
    return (await this.rest.call('GET', 'cluster/nodes', ClusterNodesAnswerSchema)).nodes;
  }
}

/** APIResult answers report some failures as FAILED with HTTP 200. */
function succeeded(answer: { apiResult: { status: string; message?: string } }): void {
  if (answer.apiResult.status === 'FAILED') throw new CliError(answer.apiResult.message ?? 'the server reported a failure', EXIT.failed);
}
