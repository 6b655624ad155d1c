/**
 * The port every SQL engine implements. Quarry's query service chooses a driver, the
 * driver service (libs/driver) executes on it; nothing outside libs/drivers knows an engine's API.
 */

/** One resource of the session, as the driver session must apply it. */
export interface SessionResourceRef {
  type: 'jar' | 'file' | 'archive';
  path: string;
  sha256: string;
  /** The bytes, for init scripts (`.sql`); loaded from the blob store by the caller. */
  content?: Buffer;
}

/** What a driver needs to know about the Quarry session a query runs in. */
export interface DriverSessionSpec {
  sessionId: string;
  /** The session's user: with per-user warehouse roles, the role a driver runs its queries as. */
  user?: string;
  /** Changes whenever the session's resources change, so a stale driver session is replaced. */
  resourcesVersion: string;
  database: string;
  resources: SessionResourceRef[];
}

export interface ColumnMeta {
  name: string;
  /** Lens column type names: INT, BIGINT, DOUBLE, STRING, BOOLEAN, DATE, TIMESTAMP, DECIMAL, ... */
  type: string;
}

export interface QueryPlanInfo {
  planString: string;
  tablesQueried: string[];
}

export interface CostEstimate {
  /** In the driver's own units; lower is cheaper. Compared across drivers as Lens did. */
  cost: number;
  /** Lens's costType bucket. */
  costType: 'VERY_LOW' | 'LOW' | 'MEDIUM' | 'HIGH';
}

/** Rows as they come, in order, so results stream in constant memory. */
export interface RowSink {
  columns(columns: ColumnMeta[]): Promise<void> | void;
  rows(batch: unknown[][]): Promise<void> | void;
}

/** Where an engine that writes CSV itself sends it: the columns first, then the bytes in order. */
export interface CsvTarget {
  columns(columns: ColumnMeta[]): Promise<void> | void;
  write(chunk: Buffer): Promise<void>;
}

export interface Execution {
  /** Resolves with the row count when every row went to the sink; rejects with the engine's message. */
  done: Promise<{ rowCount: number }>;
  /** Stops the running statement (pg: pg_cancel_backend). Resolves once the engine confirmed. */
  cancel(): Promise<void>;
}

/** A refusal by the engine, with its own message (syntax error, unknown table, ...). */
export class DriverQueryError extends Error {
  constructor(
    readonly driver: string,
    message: string,
  ) {
    super(message);
    this.name = 'DriverQueryError';
  }
}

export interface Driver {
  readonly name: string;
  /** Warnings about session resources this driver cannot use (e.g. jars), said, not ignored. */
  unsupportedResources(session: DriverSessionSpec): string[];
  /** Parses and plans without running; throws DriverQueryError with the engine's message. */
  explain(session: DriverSessionSpec, sql: string): Promise<QueryPlanInfo>;
  estimate(session: DriverSessionSpec, sql: string): Promise<CostEstimate>;
  /** Runs the statement on the driver session (init scripts applied first), streaming rows. */
  execute(session: DriverSessionSpec, sql: string, sink: RowSink): Execution;
  /**
   * Optional: the result as CSV written by the engine itself (RFC 4180; null an unquoted empty
   * field, '' a quoted one; the header line when asked), much faster than rows when the result
   * goes to a file anyway.
   */
  exportCsv?(session: DriverSessionSpec, sql: string, target: CsvTarget, options: { header: boolean }): Execution;
  /**
   * Optional: stops whatever a node incarnation that ended (declared down, restarted) left
   * running in the engine, so a dead attempt stops costing the warehouse. Returns how much it stopped.
   */
  abandon?(incarnation: string): Promise<number>;
  close(): Promise<void>;
}

/** The statement was stopped by `Execution.cancel()`: an outcome the caller asked for, not a failure. */
export class DriverCanceled extends Error {
  constructor(readonly driver: string) {
    super(`${driver}: query canceled`);
    this.name = 'DriverCanceled';
  }
}
