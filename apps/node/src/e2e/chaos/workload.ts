import { LensClient, type LensAnswer, type OpenedSession } from '@quarry/testing';
import { between } from '@quarry/testing';
import type { ClientRecord } from './verdict';

const FINISHED = ['SUCCESSFUL', 'FAILED', 'CANCELED', 'CLOSED'];
const POLL_MS = 250;
/** How long a client polls one query before it moves on (the verdict still counts it if it never ends). */
const QUERY_PATIENCE_MS = 30_000;
/** How long a client goes on asking for one result once its query succeeded. */
const RESULT_PATIENCE_MS = 30_000;

/** Not an answer to act on: the connection failed or timed out, or 502/503. Retried as is; `why` for the log. */
interface Retry {
  retry: true;
  why: string;
}
const isRetry = (answer: LensAnswer | Retry): answer is Retry => 'retry' in answer;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Keeps one of each unexpected answer per request (a poll repeats the same one many times). */
function noteError(record: ClientRecord, error: string): void {
  if (!record.errors.includes(error)) record.errors.push(error);
}

const confXml = (entries: Record<string, string>) =>
  `<conf><properties>${Object.entries(entries).map(([k, v]) => `<entry><key>${k}</key><value>${v}</value></entry>`).join('')}</properties></conf>`;

export interface WorkloadOptions {
  balancerUrl: string;
  clients: number;
  random: () => number;
  log: (line: string) => void;
}

/**
 * Clients through the balancer, each one query at a time: submit with a request id (retried with
 * the same id on connection errors, 502 and 503), poll the status until it ends, read the result
 * (in memory, or persisted for about a third), and keep what they saw in `records`.
 */
export class Workload {
  readonly records: ClientRecord[] = [];
  private stopping = false;
  private deadline = Infinity;
  private running: Promise<void>[] = [];
  private nextK = 1;

  constructor(private readonly options: WorkloadOptions) {}

  start(): void {
    this.running = Array.from({ length: this.options.clients }, (_, i) =>
      this.client(i + 1).catch((error: Error) => this.options.log(`client ${i + 1} stopped on an error: ${error.stack ?? error.message}`)),
    );
  }

  /** No new submits; each client finishes the query it is on, giving up at `deadline` (epoch ms). */
  async finish(deadline: number): Promise<void> {
    this.stopping = true;
    this.deadline = deadline;
    await Promise.all(this.running);
  }

  private get overdue(): boolean {
    return Date.now() >= this.deadline;
  }

  private async client(n: number): Promise<void> {
    const lens = new LensClient(this.options.balancerUrl);
    const session = await this.openSession(lens, `chaos${n}`);
    if (!session) return;
    while (!this.stopping) await this.runOne(lens, session, n);
  }

  private async openSession(lens: LensClient, user: string): Promise<OpenedSession | undefined> {
    while (!this.overdue) {
      try {
        return await lens.open(user);
      } catch {
        await pause(POLL_MS);
      }
    }
    return undefined;
  }

  private async runOne(lens: LensClient, session: OpenedSession, n: number): Promise<void> {
    const { random } = this.options;
    const k = this.nextK++;
    const sleep = random() < 0.5 ? (between(random, 0, 20) / 10).toFixed(1) : undefined;
    const record: ClientRecord = { requestId: `chaos-c${n}-q${k}`, k, persistent: random() < 1 / 3, handles: [], errors: [] };
    this.records.push(record);
    const query = sleep === undefined ? `SELECT ${k} AS k` : `SELECT ${k} AS k, pg_sleep(${sleep})`;

    const handle = await this.submit(lens, session, record, query);
    if (!handle) return;
    const status = await this.pollUntilFinished(lens, session, record, handle);
    if (status === 'SUCCESSFUL') await this.readResult(lens, session, record, handle);
  }

  /** One call; a Retry when it never reached a node, timed out, or was answered 502 or 503. */
  private async call(work: () => Promise<LensAnswer>): Promise<LensAnswer | Retry> {
    try {
      const answer = await work();
      return answer.status === 502 || answer.status === 503 ? { retry: true, why: `${answer.status}: ${answer.text.slice(0, 200)}` } : answer;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { retry: true, why: cause ?? (error as Error).name };
    }
  }

  private async submit(lens: LensClient, session: OpenedSession, record: ClientRecord, query: string): Promise<string | undefined> {
    const conf = confXml({
      'quarry.query.request.id': record.requestId,
      'lens.query.driver': 'pg',
      'lens.query.enable.persistent.resultset': String(record.persistent),
      'quarry.query.rerun.on.lost.result': 'true',
    });
    let lastRetry = '';
    for (;;) {
      if (this.overdue) {
        noteError(record, `submit: gave up at the deadline (last: ${lastRetry || 'no answer'})`);
        return undefined;
      }
      const answer = await this.call(() =>
        lens.request('POST', 'queryapi/queries', { form: { sessionid: session.xml, query, operation: 'EXECUTE', conf }, accept: 'application/json', timeoutMs: 10_000 }),
      );
      if (isRetry(answer)) {
        lastRetry = answer.why;
        await pause(POLL_MS);
        continue;
      }
      if (answer.status === 200) {
        const handle = answer.json<{ lensAPIResult: { data: { handleId: string } } }>().lensAPIResult.data.handleId;
        if (!record.handles.includes(handle)) record.handles.push(handle);
        return handle;
      }
      noteError(record, `submit answered ${answer.status}: ${answer.text.slice(0, 300)}`);
      // A server error may or may not have kept the query: the same request id makes a retry safe.
      if (answer.status < 500) return undefined;
      await pause(POLL_MS);
    }
  }

  private async pollUntilFinished(lens: LensClient, session: OpenedSession, record: ClientRecord, handle: string): Promise<string | undefined> {
    const giveUpAt = Math.min(this.deadline, Date.now() + QUERY_PATIENCE_MS);
    for (;;) {
      if (Date.now() >= giveUpAt) {
        noteError(record, `status: no end seen in time (last ${record.finalStatus ?? 'none'})`);
        return undefined;
      }
      const answer = await this.call(() => lens.request('GET', `queryapi/queries/${handle}`, { query: { sessionid: session.xml }, accept: 'application/json', timeoutMs: 5000 }));
      if (!isRetry(answer)) {
        if (answer.status === 200) {
          record.finalStatus = answer.json<{ lensQuery: { status: { status: string } } }>().lensQuery.status.status;
          if (FINISHED.includes(record.finalStatus)) return record.finalStatus;
        } else {
          noteError(record, `status answered ${answer.status}: ${answer.text.slice(0, 300)}`);
        }
      }
      await pause(POLL_MS);
    }
  }

  private async readResult(lens: LensClient, session: OpenedSession, record: ClientRecord, handle: string): Promise<void> {
    const giveUpAt = Math.min(this.deadline, Date.now() + RESULT_PATIENCE_MS);
    let persisted = record.persistent;
    let lastRetry = '';
    for (;;) {
      if (Date.now() >= giveUpAt) {
        noteError(record, `result: not read in time (last: ${lastRetry || 'no answer'})`);
        return;
      }
      const path = `queryapi/queries/${handle}/${persisted ? 'httpresultset' : 'resultset'}`;
      const answer = await this.call(() => lens.request('GET', path, { query: { sessionid: session.xml }, accept: 'application/json', timeoutMs: 15_000 }));
      if (isRetry(answer)) {
        lastRetry = answer.why;
        await pause(POLL_MS);
        continue;
      }
      if (answer.status === 200) {
        if (persisted) {
          record.value = answer.text.split('\n')[0].split(',')[0];
          return;
        }
        const body = answer.json<{ inMemoryQueryResult?: { rows?: { values?: ({ value: unknown } | null)[] }[] }; persistentQueryResult?: unknown }>();
        // A re-run whose result went to the store answers where it is instead of rows.
        if (body.persistentQueryResult) {
          persisted = true;
          continue;
        }
        record.value = body.inMemoryQueryResult?.rows?.[0]?.values?.[0]?.value ?? null;
        return;
      }
      noteError(record, `result answered ${answer.status}: ${answer.text.slice(0, 300)}`);
      if (answer.status < 500) return;
      await pause(POLL_MS);
    }
  }
}
