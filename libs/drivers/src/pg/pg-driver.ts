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
import { hasInitScripts, initScripts, unsupportedResourceWarnings } from '../resources';
import { DEFAULT_RESULT_LIMITS, type ResultLimits } from '../result-limits';
import { SessionPool } from '../session-pool';
import { SharedPool } from '../shared-pool';
import { CursorOpening, type FirstFetch } from './cursor-opening';
import { rowsPerFetch } from './fetch-size';
import { guardMessages, PgMessageGuard } from './pg-message-guard';
import { readPgPlan, type PgPlan } from './pg-plan';
import { lensTypeForOid, PG_VALUE_TYPES } from './pg-types';
import { statementTimeoutSetting, TimeLimit } from './time-limit';
import {
  perUserRoleProblem,
  PrivilegedWarehouseRole,
  privilegedRoleMessage,
  readWarehouseRole,
  ROLE_CHECK,
  transactionPrelude,
  type WarehouseRole,
} from './warehouse-role';

export interface PgDriverOptions {
  /** The warehouse database queried (not Quarry's own); best reached as a read-only role. */
  warehouseUrl: string;
  /** Connections of sessions with `.sql` init scripts, one each (the least recently used closed first). */
  maxSessions?: number;
  /** Connections shared by the sessions without init scripts (of one role each, with per-user roles); statements hold all but one, which plans keep. */
  sharedMax?: number;
  /** A session's connection unused this long is closed (its init scripts run again on next use). */
  idleMs?: number;
  /** A shared connection unused this long is closed (another opens in a moment; an idle one holds a warehouse slot). */
  sharedIdleMs?: number;
  /** The most rows per FETCH from the server-side cursor; fewer when rows are long (`limits.maxBatchBytes`). */
  fetchRows?: number;
  /** The node incarnation running this driver, named in its connections so that its work can be found once it ended. */
  incarnation?: string;
  /** The largest value and row a statement may return, and the most bytes of rows one FETCH gathers; past them it fails (the connection is dropped). */
  limits?: ResultLimits;
  /** Each statement's limit, and each transaction's as a whole (0: none). */
  statementTimeoutMs?: number;
  /** Run queries even when the warehouse role is a superuser or may read or write server files. */
  allowPrivileged?: boolean;
  /** SET ROLE to the role named after the session's user, so the warehouse's grants decide. */
  rolePerUser?: boolean;
}

/** The answer to a node's check of its warehouse role at start. */
export type WarehouseRoleCheck = { state: 'unreachable'; reason: string } | { state: 'checked'; role: WarehouseRole; refusal?: string };

interface PgConn {
  client: Client;
  pid: number;
  /** transactionPrelude() for this connection (its user's role included). */
  prelude: string[];
  /** Reads what the connection receives: the limits, and the longest row, which sizes the next FETCH. */
  guard: PgMessageGuard;
  /** Lost, or left in an unknown state: never used again. */
  broken?: boolean;
  /**
   * The last statement succeeded and its transaction is still open: its rollback goes first in
   * the connection's next use, or on its own once the connection idled ROLLBACK_OWED_MS.
   */
  owesRollback?: boolean;
  owedTimer?: NodeJS.Timeout;
}

/** Where a session's statements run: its own connection, or one of the shared ones. */
type Connections = Pick<SessionPool<PgConn>, 'run' | 'runNow'>;

/** node-pg's extended protocol: one statement per query, so the query text cannot add more. */
type SingleStatement = QueryConfig & { queryMode: 'extended'; rowMode?: 'array' };

const CURSOR = 'quarry_rows';
/**
 * What ends a statement's transaction. Never COMMIT: a query has nothing to keep, and what
 * read-only lets through (PostgreSQL 15 creates large objects; session settings from set_config)
 * goes with the transaction. Session advisory locks outlive it, so they go too: the connection may
 * serve another session next.
 */
const TRANSACTION_END = ['ROLLBACK', 'SELECT pg_advisory_unlock_all()'];
/**
 * How long a connection idles with a succeeded statement's transaction open before it is rolled
 * back on its own: its snapshot and its locks (a table's ACCESS SHARE, an advisory lock the query
 * took) last that long at most. Reused before, the rollback rides on the next opening's round trip.
 */
const ROLLBACK_OWED_MS = 50;
const ignore = () => undefined;

const declareCursor = (sql: string) => `DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${sql}`;
const fetchFrom = (rows: number) => `FETCH ${rows} FROM ${CURSOR}`;
const columnsOf = (fields: FieldDef[]): ColumnMeta[] => fields.map((f) => ({ name: f.name, type: lensTypeForOid(f.dataTypeID) }));
// Fixed output formats, so values read the same whatever the server's defaults are; read-only
// and time-limited by default too, which is what holds for planning (EXPLAIN runs in its own
// implicit transaction, and executes nothing).
const sessionOptions = (statementTimeoutMs: number) =>
  `-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=postgres -c default_transaction_read_only=on -c statement_timeout=${statementTimeoutMs}`;
/** A warehouse that does not answer at a node's start is checked on each connection instead. */
const START_CHECK_CONNECT_MS = 5_000;

/**
 * `quarry <incarnation prefix> <session>`, or `... shared` for a shared connection: what an ended
 * incarnation left is found by its prefix.
 */
function applicationName(incarnation: string | undefined, owner: string): string {
  return `quarry ${incarnationTag(incarnation ?? 'local')} ${owner}`.slice(0, 63);
}

const SHARED = 'shared';

const incarnationTag = (incarnation: string) => incarnation.replace(/-/g, '').slice(0, 12);

/** The warehouse connection was lost or refused: the statement failed for that, not for what it says. */
class WarehouseUnreachable extends DriverQueryError {}

/**
 * SQL on a warehouse PostgreSQL database. A session with `.sql` init scripts has a connection of
 * its own (the scripts' settings live on it); the others share a bounded pool (per role, with
 * per-user roles), since every statement runs in a transaction that is rolled back and leaves
 * nothing on its connection for the next.
 */
export class PgDriver implements Driver {
  private readonly running = new RunningExecutions();
  private readonly sessions: SessionPool<PgConn>;
  private readonly shared: SharedPool<PgConn>;
  /** For pg_cancel_backend: a busy session connection cannot cancel itself. */
  private readonly control: Pool;
  private readonly fetchRows: number;
  private readonly statementTimeoutMs: number;
  private readonly limits: ResultLimits;
  /** Before any row is seen each may be as long as the row limit. */
  private readonly firstFetchRows: number;

  constructor(
    readonly name = 'pg',
    private readonly options: PgDriverOptions,
  ) {
    this.fetchRows = options.fetchRows ?? 1000;
    if (!Number.isInteger(this.fetchRows) || this.fetchRows < 1) throw new Error(`fetchRows must be a positive integer, not ${this.fetchRows}`);
    this.statementTimeoutMs = options.statementTimeoutMs ?? 900_000;
    if (!Number.isInteger(this.statementTimeoutMs) || this.statementTimeoutMs < 0) throw new Error(`statementTimeoutMs must be a whole number, not ${this.statementTimeoutMs}`);
    this.limits = options.limits ?? DEFAULT_RESULT_LIMITS;
    this.firstFetchRows = rowsPerFetch(this.limits.maxBatchBytes, this.limits.maxRowBytes, this.fetchRows);
    this.sessions = new SessionPool({
      maxSessions: options.maxSessions ?? 50,
      idleMs: options.idleMs ?? 300_000,
      open: (session) => this.open(session, session.sessionId),
      close: (conn) => this.closeConn(conn),
    });
    this.shared = new SharedPool({
      max: options.sharedMax ?? 16,
      idleMs: options.sharedIdleMs ?? 30_000,
      // With per-user roles a connection is set to its user's role (and checked as it): one user's
      // connections never run another user's statements, plans included.
      keyOf: (session) => (options.rolePerUser ? (session.user ?? '') : ''),
      open: (session) => this.open(session, SHARED),
      close: (conn) => this.closeConn(conn),
      // Back to the pool only outside any transaction (every statement awaited, ROLLBACK done), or
      // inside a succeeded statement's transaction, whose rollback the next use sends first.
      reusable: (conn) => !conn.broken && (conn.client.getTransactionStatus() === 'I' || (conn.owesRollback === true && conn.client.getTransactionStatus() === 'T')),
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

  /**
   * The warehouse role as a node sees it at start: refused when privileged (unless allowed). A
   * warehouse that does not answer yet is no reason not to start; each connection the driver
   * opens is checked anyway.
   */
  async checkRole(): Promise<WarehouseRoleCheck> {
    const client = new Client({ connectionString: this.options.warehouseUrl, connectionTimeoutMillis: START_CHECK_CONNECT_MS, application_name: 'quarry role check' });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const role = readWarehouseRole((await client.query(ROLE_CHECK)).rows[0]);
      return { state: 'checked', role, refusal: this.refusal(role) };
    } catch (error) {
      return { state: 'unreachable', reason: (error as Error).message };
    } finally {
      await client.end().catch(() => undefined);
    }
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
    return this.running.track(startExecution(this.name, (control) => this.connectionsOf(session).run(session, (conn) => this.stream(conn, sql, sink, control))));
  }

  exportCsv(session: DriverSessionSpec, sql: string, target: CsvTarget, options: { header: boolean }): Execution {
    return this.running.track(
      startExecution(this.name, (control) =>
        this.connectionsOf(session).run(session, (conn) => this.inTransaction(conn, control, (limit) => this.copyOut(conn, sql, target, options.header, limit))),
      ),
    );
  }

  /** Stops running statements first: a connection cannot close while its statement runs on. */
  async close(): Promise<void> {
    await this.running.cancelAll();
    await Promise.all([this.sessions.close(), this.shared.close()]);
    await this.control.end();
  }

  /** Init scripts live on their session's connection; without any, a shared one serves. */
  private connectionsOf(session: DriverSessionSpec): Connections {
    return hasInitScripts(session) ? this.sessions : this.shared;
  }

  /** Takes a connection out of use: the next statement that needs one opens a new one. */
  private discard(conn: PgConn): void {
    conn.broken = true;
    this.sessions.discard((c) => c === conn);
    this.shared.discard((c) => c === conn);
  }

  /** A connection for one session (`owner` its id), or a shared one (`owner` SHARED), as the session's user with per-user roles. */
  private async open(session: DriverSessionSpec, owner: string): Promise<PgConn> {
    const scripts = initScripts(this.name, session);
    const guard = new PgMessageGuard(this.name, this.limits);
    if (this.options.rolePerUser && scripts.length > 0) {
      // A script is several statements: one of them could SET ROLE to any user's role.
      throw new DriverQueryError(this.name, `init scripts cannot run with QUARRY_PG_ROLE_PER_USER=true (${scripts.map((s) => s.path).join(', ')})`);
    }
    const user = this.options.rolePerUser ? session.user : undefined;
    if (this.options.rolePerUser && !user) throw new DriverQueryError(this.name, 'QUARRY_PG_ROLE_PER_USER=true, but the session names no user');
    const client = new Client({
      connectionString: this.options.warehouseUrl,
      options: sessionOptions(this.statementTimeoutMs),
      types: PG_VALUE_TYPES,
      application_name: applicationName(this.options.incarnation, owner),
      // pg passes its connection settings; over TLS the raw socket carries ciphertext, so the guard waits for the TLS stream.
      stream: (settings?: { ssl?: unknown }) => (settings?.ssl ? new Socket() : guardMessages(new Socket(), guard)),
    });
    client.connection.once('sslconnect', () => guardMessages(client.connection.stream, guard));
    const role = user ? client.escapeIdentifier(user) : undefined;
    const conn: PgConn = { client, pid: 0, prelude: transactionPrelude(this.statementTimeoutMs, role), guard };
    // A connection that dropped is not reused: the session's next statement opens a new one.
    client.on('error', () => this.discard(conn));
    try {
      await client.connect().catch((error) => this.rethrow(error, 'cannot connect to the warehouse'));
      conn.pid = (await this.roleOf(client, session, role)).pid;
      for (const script of scripts) await this.runScript(conn, script);
    } catch (error) {
      await client.end().catch(() => undefined);
      this.rethrow(error);
    }
    return conn;
  }

  /** The connection's pid and role, refused when privileged; with per-user roles, SET ROLE in the same round trip. */
  private async roleOf(client: Client, session: DriverSessionSpec, role: string | undefined): Promise<WarehouseRole> {
    const answer = await client.query(role ? `SET ROLE ${role}; ${ROLE_CHECK}` : ROLE_CHECK).catch((error) => {
      if (role && error instanceof DatabaseError) throw new DriverQueryError(this.name, `no warehouse role for user ${session.user}: ${error.message}`);
      throw error;
    });
    const results = Array.isArray(answer) ? answer : [answer];
    const checked = readWarehouseRole(results[results.length - 1].rows[0]);
    const refusal = this.refusal(checked);
    if (refusal) throw new PrivilegedWarehouseRole(this.name, refusal);
    return checked;
  }

  private refusal(role: WarehouseRole): string | undefined {
    if (role.privileges && !this.options.allowPrivileged) return privilegedRoleMessage(role);
    return this.options.rolePerUser ? perUserRoleProblem(role) : undefined;
  }

  /**
   * A `.sql` script under the limits of a query: in a read-only transaction with the statement
   * timeout, inside a DO block, where COMMIT or ROLLBACK cannot end that transaction early.
   */
  private async runScript(conn: PgConn, script: { path: string; sql: string }): Promise<void> {
    const { client } = conn;
    const body = `BEGIN EXECUTE ${client.escapeLiteral(script.sql)}; END`;
    try {
      await client.query(`${conn.prelude.join('; ')}; DO ${client.escapeLiteral(body)}; COMMIT`);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (error instanceof DatabaseError) throw new DriverQueryError(this.name, `init script ${script.path}: ${this.withSetting(error)}`);
      throw error;
    }
  }

  /**
   * EXPLAIN without waiting behind running statements: on the session's own connection (a
   * short-lived one while it is busy), or on a shared one (statements leave one free, so a plan
   * waits only for other plans). Planning runs nothing, so when that connection turns out lost
   * (the warehouse ended it since its last use, while opening, or during the EXPLAIN) it is dropped
   * and the plan asked once more on a fresh one: a submit does not fail for a connection it never saw.
   */
  private async plan(session: DriverSessionSpec, sql: string, again = false): Promise<PgPlan & { json: string }> {
    try {
      return await this.connectionsOf(session).runNow(session, async (conn) => {
        await this.settle(conn);
        const query: SingleStatement = { text: `EXPLAIN (FORMAT JSON) ${sql}`, queryMode: 'extended', rowMode: 'array' };
        const result = await conn.client.query(query).catch((error) => {
          if (isDatabaseUnavailable(error)) this.discard(conn);
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

  /**
   * A server-side cursor read in batches: memory stays at one batch whatever the result size. Each
   * FETCH asks for as many rows as fit in the batch budget if they are as long as the longest row
   * seen so far; rows that grow past that are stopped by the guard's count.
   */
  private stream(conn: PgConn, sql: string, sink: RowSink, control: ExecutionControl): Promise<number> {
    return this.inTransaction(conn, control, async (limit) => {
      const { client, guard } = conn;
      // Rows of the connection's earlier statements say nothing about this one's.
      guard.takeLongestRow();
      let rows = this.firstFetchRows;
      let batch = await this.openCursor(conn, sql, rows);
      await sink.columns(columnsOf(batch.fields));
      let rowCount = 0;
      let longestRow = 0;
      for (;;) {
        if (batch.rows.length > 0) await sink.rows(batch.rows);
        rowCount += batch.rows.length;
        if (batch.rows.length < rows) return rowCount;
        control.check();
        limit.check();
        longestRow = Math.max(longestRow, guard.takeLongestRow());
        rows = rowsPerFetch(this.limits.maxBatchBytes, longestRow, this.fetchRows);
        batch = await client.query({ text: fetchFrom(rows), rowMode: 'array' });
      }
    });
  }

  /**
   * The query's transaction opened (transactionPrelude), its cursor declared and `rows` of it
   * fetched, in one round trip (CursorOpening): every statement's transaction starts here, after
   * the rollback of the connection's last one when that is still owed.
   */
  private openCursor(conn: PgConn, sql: string, rows: number): Promise<FirstFetch> {
    const owed = this.takeOwedRollback(conn) ? TRANSACTION_END : [];
    const opening = new CursorOpening([...owed, ...conn.prelude, declareCursor(sql)], fetchFrom(rows));
    conn.client.query(opening);
    return opening.done;
  }

  /**
   * PostgreSQL's own CSV (COPY ... TO STDOUT), passed on as it comes. The cursor first proves the
   * text is one query, so the parentheses around it hold all of it, and its FETCH 0 gives the
   * columns without running the query to its rows.
   */
  private async copyOut(conn: PgConn, sql: string, target: CsvTarget, header: boolean, limit: TimeLimit): Promise<number> {
    const { client } = conn;
    const described = await this.openCursor(conn, sql, 0);
    await target.columns(columnsOf(described.fields));
    await client.query(`CLOSE ${CURSOR}`);
    limit.check();
    const copy = client.query(copyTo(`COPY (\n${sql}\n) TO STDOUT WITH (FORMAT csv${header ? ', HEADER' : ''})`));
    for await (const chunk of copy as AsyncIterable<Buffer>) await target.write(chunk);
    return copy.rowCount ?? 0;
  }

  /**
   * One statement's transaction (read-only, time-limited, as the user's role: see
   * transactionPrelude; `work` opens it with openCursor), cancelable while it runs. Once no cancel
   * is on its way to the backend it is over: a failed one is rolled back before it answers (the
   * rollback may be what fails); a succeeded one answers at once and owes its rollback, which the
   * connection's next use sends first in its own round trip (or ROLLBACK_OWED_MS of idling sends).
   */
  private async inTransaction(conn: PgConn, control: ExecutionControl, work: (limit: TimeLimit) => Promise<number>): Promise<number> {
    control.begin(() => this.cancelBackend(conn.pid));
    const limit = new TimeLimit(this.name, this.statementTimeoutMs, () => this.cancelBackend(conn.pid));
    let rowCount = 0;
    let failure: { error: unknown } | undefined;
    try {
      rowCount = await work(limit);
    } catch (error) {
      failure = { error: limit.expired && !control.canceled ? limit.error() : error };
    } finally {
      control.end();
    }
    await Promise.all([control.stopsAnswered(), limit.stop()]);
    if (!failure) {
      this.oweRollback(conn);
      return rowCount;
    }
    await this.endTransaction(conn);
    this.rethrow(failure.error);
  }

  private oweRollback(conn: PgConn): void {
    conn.owesRollback = true;
    clearTimeout(conn.owedTimer);
    conn.owedTimer = setTimeout(() => void this.settle(conn), ROLLBACK_OWED_MS);
    conn.owedTimer.unref();
  }

  /** Whether the connection owed its last transaction's rollback; the caller sends it now. */
  private takeOwedRollback(conn: PgConn): boolean {
    if (!conn.owesRollback) return false;
    conn.owesRollback = false;
    clearTimeout(conn.owedTimer);
    return true;
  }

  /** Sends an owed rollback on its own (a plan's use, or an idle connection). */
  private async settle(conn: PgConn): Promise<void> {
    if (this.takeOwedRollback(conn) && !conn.broken) await this.endTransaction(conn);
  }

  /** TRANSACTION_END in one round trip; a connection whose rollback failed is dropped. */
  private endTransaction(conn: PgConn): Promise<void> {
    return conn.client.query(TRANSACTION_END.join('; ')).then(ignore, () => this.discard(conn));
  }

  private closeConn(conn: PgConn): Promise<void> {
    this.takeOwedRollback(conn);
    return conn.client.end();
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
    if (error instanceof DatabaseError) throw new DriverQueryError(this.name, this.withSetting(error));
    throw error;
  }

  /** PostgreSQL's message; a statement timeout also names the setting that chose it. */
  private withSetting(error: DatabaseError): string {
    const timedOut = error.code === '57014' && error.message.includes('statement timeout');
    return timedOut ? `${error.message} (${statementTimeoutSetting(this.statementTimeoutMs)})` : error.message;
  }
}
