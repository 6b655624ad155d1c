import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { costEstimate } from '../cost';
import { DriverQueryError, type CostEstimate, type Driver, type DriverSessionSpec, type Execution, type QueryPlanInfo, type RowSink } from '../driver';
import { RunningExecutions, startExecution, type ExecutionControl } from '../execution';
import { initScripts, unsupportedResourceWarnings } from '../resources';
import { DEFAULT_RESULT_LIMITS, ResultLimitExceeded, type ResultLimits } from '../result-limits';
import { SessionPool } from '../session-pool';
import { DuckDbError, DuckDbHost } from './duckdb-host';
import { estimatedRows, fixRows, lensTypeForDuckDb, valueFix } from './duckdb-types';

export interface DuckDbDriverOptions {
  /** The folder of Parquet and CSV files; relative names resolve here and nothing else is readable. */
  warehouseDir: string;
  maxSessions?: number;
  idleMs?: number;
  /** The largest value and row a statement may return; the host enforces them before a value leaves it. */
  limits?: ResultLimits;
}

interface DuckConn {
  host: DuckDbHost;
  id: string;
}

interface HostColumn {
  name: string;
  type: string;
}

type Batch = { done: true } | { done?: undefined; rows: unknown[][] };

/**
 * SQL over the warehouse folder's files with one DuckDB instance, hosted in a child process
 * (see host-source.ts for why), one DuckDB connection per Quarry session.
 */
export class DuckDbDriver implements Driver {
  private readonly warehouseDir: string;
  private readonly limits: ResultLimits;
  private readonly running = new RunningExecutions();
  private readonly sessions: SessionPool<DuckConn>;
  private host?: Promise<DuckDbHost>;
  private nextConn = 1;
  private closing = false;

  constructor(
    readonly name = 'duckdb',
    options: DuckDbDriverOptions,
  ) {
    this.warehouseDir = resolve(options.warehouseDir);
    this.limits = options.limits ?? DEFAULT_RESULT_LIMITS;
    this.sessions = new SessionPool({
      maxSessions: options.maxSessions ?? 50,
      idleMs: options.idleMs ?? 300_000,
      open: (session) => this.open(session),
      // Closing the driver stops the host, which ends every connection at once.
      close: ({ host, id }) => (this.closing ? Promise.resolve() : host.request({ op: 'drop', conn: id })),
    });
  }

  unsupportedResources(session: DriverSessionSpec): string[] {
    return unsupportedResourceWarnings(this.name, session);
  }

  async explain(session: DriverSessionSpec, sql: string): Promise<QueryPlanInfo> {
    const plan = await this.plan(session, sql);
    return { planString: plan.json, tablesQueried: plan.tables };
  }

  /** Cost: the rows the plan expects to move (see estimatedRows). */
  async estimate(session: DriverSessionSpec, sql: string): Promise<CostEstimate> {
    return costEstimate(estimatedRows((await this.plan(session, sql)).json));
  }

  execute(session: DriverSessionSpec, sql: string, sink: RowSink): Execution {
    return this.running.track(startExecution(this.name, (control) => this.sessions.run(session, (conn) => this.stream(conn, sql, sink, control))));
  }

  /** Stops running statements first: a connection cannot close while its statement runs on. */
  async close(): Promise<void> {
    await this.running.cancelAll();
    this.closing = true;
    await this.sessions.close();
    const host = await this.host?.catch(() => undefined);
    await host?.stop();
  }

  private startHost(): Promise<DuckDbHost> {
    if (!this.host) {
      if (!statSync(this.warehouseDir, { throwIfNoEntry: false })?.isDirectory()) {
        return Promise.reject(new Error(`duckdb warehouse folder ${this.warehouseDir} does not exist`));
      }
      const starting = DuckDbHost.start(this.warehouseDir, this.limits, (host) => {
        // Its connections died with it; the next statement starts a new host.
        this.sessions.discard((conn) => conn.host === host);
        if (this.host === starting) this.host = undefined;
      });
      starting.catch(() => this.host === starting && (this.host = undefined));
      this.host = starting;
    }
    return this.host;
  }

  private async open(session: DriverSessionSpec): Promise<DuckConn> {
    const scripts = initScripts(this.name, session);
    const host = await this.startHost();
    const id = String(this.nextConn++);
    await this.call(host, { op: 'open', conn: id, scripts });
    return { host, id };
  }

  private plan(session: DriverSessionSpec, sql: string): Promise<{ json: string; tables: string[] }> {
    return this.sessions.runNow(session, ({ host, id }) => this.call(host, { op: 'explain', conn: id, sql }));
  }

  private async stream({ host, id }: DuckConn, sql: string, sink: RowSink, control: ExecutionControl): Promise<number> {
    control.begin(() => host.request({ op: 'interrupt', conn: id }));
    let rowCount = 0;
    let streaming = false;
    try {
      const columns = await this.call<HostColumn[]>(host, { op: 'run', conn: id, sql });
      streaming = true;
      const types = columns.map((c) => lensTypeForDuckDb(c.type));
      const fixes = types.map(valueFix);
      await sink.columns(columns.map((c, i) => ({ name: c.name, type: types[i] })));
      for (;;) {
        control.check();
        const batch = await this.call<Batch>(host, { op: 'more', conn: id });
        if (batch.done) break;
        await sink.rows(fixRows(batch.rows, fixes));
        rowCount += batch.rows.length;
      }
      streaming = false;
      return rowCount;
    } finally {
      control.end();
      // Stopped early (sink failed, canceled): let the host drop the result.
      if (streaming) await host.request({ op: 'stop', conn: id }).catch(() => undefined);
    }
  }

  /** DuckDB's refusals keep its message, as DriverQueryError; a limit the host enforced is named as the pg driver names it. */
  private call<T>(host: DuckDbHost, message: Record<string, unknown>): Promise<T> {
    return host.request<T>(message).catch((error: Error) => {
      if (!(error instanceof DuckDbError)) throw error;
      const { limit } = error;
      throw limit ? ResultLimitExceeded.of(this.name, this.limits, limit.kind, limit.bytes, limit.exact) : new DriverQueryError(this.name, error.message);
    });
  }
}
