import { Socket } from 'node:net';
import { isDatabaseUnavailable } from '@quarry/platform';
import { Client, DatabaseError, Pool, type FieldDef, type QueryConfig } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { costEstimate } from '../cost';
import {
  DriverQueryError,
  type ColumnMeta,
  type CostEstimate,
  type CsvTarget,
  type Driver,
  type DriverSessionSpec,
  type Execution,
  type QueryPlanInfo,
  type RowSink,
} from '../driver';
import { RunningExecutions, startExecution, type ExecutionControl } from '../execution';
import { initScripts, unsupportedResourceWarnings } from '../resources';
import { DEFAULT_RESULT_LIMITS, type ResultLimits } from '../result-limits';
import { SessionPool } from '../session-pool';
import { guardMessages, PgMessageGuard } from './pg-message-guard';
import { readPgPlan, type PgPlan } from './pg-plan';
import { lensTypeForOid, PG_VALUE_TYPES } from './pg-types';

export interface PgDriverOptions {
  /** The warehouse database queried (not Quarry's own); best reached as a read-only role. */
  warehouseUrl: string;
  maxSessions?: number;
  /** A driver session unused this long is closed (its init scripts run again on next use). */
  idleMs?: number;
  /** Rows per FETCH from the server-side cursor: what is held in memory at once. */
  fetchRows?: number;
  /** The node incarnation running this driver, named in its connections so that its work can be found once it ended. */
  incarnation?: string;
  /** The largest value and row a statement may return; past them it fails (the connection is dropped). */
  limits?: ResultLimits;
}

interface PgConn {
  client: Client;
  pid: number;
}

/** node-pg's extended protocol: one statement per query, so the query text cannot add more. */
type SingleStatement = QueryConfig & { queryMode: 'extended'; rowMode?: 'array' };

const CURSOR = 'quarry_rows';

const declareCursor = (sql: string): SingleStatement => ({ text: `DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${sql}`, queryMode: 'extended' });
const columnsOf = (fields: FieldDef[]): ColumnMeta[] => fields.map((f) => ({ name: f.name, type: lensTypeForOid(f.dataTypeID) }));
// Fixed output formats, so values read the same whatever the server's defaults are.
const SESSION_OPTIONS = '-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=postgres';

/** `quarry <incarnation prefix> <session>`: what an ended incarnation left is found by its prefix. */
function applicationName(incarnation: string | undefined, sessionId: string): string {
  return `quarry ${incarnationTag(incarnation ?? 'local')} ${sessionId}`.slice(0, 63);
}

const incarnationTag = (incarnation: string) => incarnation.replace(/-/g, '').slice(0, 12);

/** The warehouse connection was lost or refused: the statement failed for that, not for what it says. */
class WarehouseUnreachable extends DriverQueryError {}

/** SQL on a warehouse PostgreSQL database, one connection per Quarry session. */
export class PgDriver implements Driver {
  private readonly running = new RunningExecutions();
  private readonly sessions: SessionPool<PgConn>;
  /** For pg_cancel_backend: a busy session connection cannot cancel itself. */
  private readonly control: Pool;
  private readonly fetchRows: number;

  constructor(
    readonly name = 'pg',
    private readonly options: PgDriverOptions,
  ) {
    this.fetchRows = options.fetchRows ?? 1000;
    if (!Number.isInteger(this.fetchRows) || this.fetchRows < 1) throw new Error(`fetchRows must be a positive integer, not ${this.fetchRows}`);
    this.sessions = new SessionPool({
      maxSessions: options.maxSessions ?? 50,
      idleMs: options.idleMs ?? 300_000,
      open: (session) => this.open(session),
      close: (conn) => conn.client.end(),
    });
    this.control = new Pool({
      connectionString: options.warehouseUrl,
      application_name: 'quarry cancel',
      max: 2,
      idleTimeoutMillis: 10_000,
      allowExitOnIdle: true,
    });
    // An idle cancel connection that drops is replaced on next use; unhandled, it would crash the process.
    this.control.on('error', () => undefined);
  }

  async abandon(incarnation: string): Promise<number> {
    const { rows } = await this.control.query<{ stopped: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS stopped FROM pg_stat_activity WHERE application_name LIKE $1 AND pid <> pg_backend_pid()`,
      [`quarry ${incarnationTag(incarnation)} %`],
    );
    return rows[0].stopped;
  }

  unsupportedResources(session: DriverSessionSpec): string[] {
    return unsupportedResourceWarnings(this.name, session);
  }

  async explain(session: DriverSessionSpec, sql: string): Promise<QueryPlanInfo> {
    const plan = await this.plan(session, sql);
    return { planString: plan.json, tablesQueried: plan.tables };
  }

  async estimate(session: DriverSessionSpec, sql: string): Promise<CostEstimate> {
    return costEstimate((await this.plan(session, sql)).totalCost);
  }

  execute(session: DriverSessionSpec, sql: string, sink: RowSink): Execution {
    return this.running.track(startExecution(this.name, (control) => this.sessions.run(session, (conn) => this.stream(conn, sql, sink, control))));
  }

  exportCsv(session: DriverSessionSpec, sql: string, target: CsvTarget, options: { header: boolean }): Execution {
    return this.running.track(
      startExecution(this.name, (control) => this.sessions.run(session, (conn) => this.inTransaction(conn, control, () => this.copyOut(conn.client, sql, target, options.header)))),
    );
  }

  /** Stops running statements first: a connection cannot close while its statement runs on. */
  async close(): Promise<void> {
    await this.running.cancelAll();
    await this.sessions.close();
    await this.control.end();
  }

  private async open(session: DriverSessionSpec): Promise<PgConn> {
    const scripts = initScripts(this.name, session);
    const limits = this.options.limits ?? DEFAULT_RESULT_LIMITS;
    const guard = () => new PgMessageGuard(this.name, limits);
    const client = new Client({
      connectionString: this.options.warehouseUrl,
      options: SESSION_OPTIONS,
      types: PG_VALUE_TYPES,
      application_name: applicationName(this.options.incarnation, session.sessionId),
      // pg passes its connection settings; over TLS the raw socket carries ciphertext, so the guard waits for the TLS stream.
      stream: (settings?: { ssl?: unknown }) => (settings?.ssl ? new Socket() : guardMessages(new Socket(), guard())),
    });
    client.connection.once('sslconnect', () => guardMessages(client.connection.stream, guard()));
    const conn: PgConn = { client, pid: 0 };
    // A connection that dropped is not reused: the session's next statement opens a new one.
    client.on('error', () => this.sessions.discard((c) => c === conn));
    try {
      await client.connect().catch((error) => this.rethrow(error, 'cannot connect to the warehouse'));
      conn.pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      for (const script of scripts) {
        // Init scripts may hold several statements, so the simple protocol.
        await client.query(script.sql).catch((error: Error) => {
          throw new DriverQueryError(this.name, `init script ${script.path}: ${error.message}`);
        });
      }
    } catch (error) {
      await client.end().catch(() => undefined);
      this.rethrow(error);
    }
    return conn;
  }

  /**
   * EXPLAIN on the session's connection. Planning runs nothing, so when that connection turns out
   * lost (the warehouse ended it since its last use, while opening, or during the EXPLAIN) it is
   * dropped and the plan asked once more on a fresh one: a submit does not fail for a connection
   * it never saw.
   */
  private async plan(session: DriverSessionSpec, sql: string, again = false): Promise<PgPlan & { json: string }> {
    try {
      return await this.sessions.runNow(session, async (conn) => {
        const query: SingleStatement = { text: `EXPLAIN (FORMAT JSON) ${sql}`, queryMode: 'extended', rowMode: 'array' };
        const result = await conn.client.query(query).catch((error) => {
          if (isDatabaseUnavailable(error)) this.sessions.discard((c) => c === conn);
          return this.rethrow(error);
        });
        const json = String(result.rows[0][0]);
        return { json, ...readPgPlan(json) };
      });
    } catch (error) {
      if (error instanceof WarehouseUnreachable && !again) return this.plan(session, sql, true);
      throw error;
    }
  }

  /** A server-side cursor read in batches: memory stays at one batch whatever the result size. */
  private stream(conn: PgConn, sql: string, sink: RowSink, control: ExecutionControl): Promise<number> {
    return this.inTransaction(conn, control, async () => {
      const { client } = conn;
      await client.query(declareCursor(sql));
      let rowCount = 0;
      for (let first = true; ; first = false) {
        const batch = await client.query({ text: `FETCH ${this.fetchRows} FROM ${CURSOR}`, rowMode: 'array' });
        if (first) await sink.columns(columnsOf(batch.fields));
        if (batch.rows.length > 0) await sink.rows(batch.rows);
        rowCount += batch.rows.length;
        if (batch.rows.length < this.fetchRows) return rowCount;
        control.check();
      }
    });
  }

  /**
   * PostgreSQL's own CSV (COPY ... TO STDOUT), passed on as it comes. The cursor first proves the
   * text is one query, so the parentheses around it hold all of it, and its FETCH 0 gives the
   * columns without running the query to its rows.
   */
  private async copyOut(client: Client, sql: string, target: CsvTarget, header: boolean): Promise<number> {
    await client.query(declareCursor(sql));
    const described = await client.query({ text: `FETCH 0 FROM ${CURSOR}`, rowMode: 'array' });
    await target.columns(columnsOf(described.fields));
    await client.query(`CLOSE ${CURSOR}`);
    const copy = client.query(copyTo(`COPY (\n${sql}\n) TO STDOUT WITH (FORMAT csv${header ? ', HEADER' : ''})`));
    for await (const chunk of copy as AsyncIterable<Buffer>) await target.write(chunk);
    return copy.rowCount ?? 0;
  }

  /** One statement's transaction on the session connection, cancelable while it runs. */
  private async inTransaction(conn: PgConn, control: ExecutionControl, work: () => Promise<number>): Promise<number> {
    control.begin(() => this.cancelBackend(conn.pid));
    let rowCount = 0;
    let failure: unknown;
    try {
      await conn.client.query('BEGIN');
      rowCount = await work();
    } catch (error) {
      failure = error;
    } finally {
      control.end();
    }
    try {
      await conn.client.query(failure ? 'ROLLBACK' : 'COMMIT');
    } catch (error) {
      this.sessions.discard((c) => c === conn);
      failure ??= error;
    }
    if (failure) this.rethrow(failure);
    return rowCount;
  }

  private async cancelBackend(pid: number): Promise<void> {
    await this.control.query('SELECT pg_cancel_backend($1)', [pid]);
  }

  /**
   * PostgreSQL's refusals (syntax, unknown table, runtime errors) keep its message. A warehouse
   * connection that was terminated, reset or refused fails the statement saying so, as the
   * driver's error: never mistaken for Quarry's own database being away.
   */
  private rethrow(error: unknown, lost = 'the warehouse connection was lost'): never {
    if (isDatabaseUnavailable(error)) throw new WarehouseUnreachable(this.name, `${lost} (${(error as Error).message})`);
    if (error instanceof DatabaseError) throw new DriverQueryError(this.name, error.message);
    throw error;
  }
}
