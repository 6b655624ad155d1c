import type { Connection, FieldDef, Submittable } from 'pg';
import { PG_VALUE_TYPES } from './pg-types';

const ignore = (): void => undefined;

/** What the first FETCH of a freshly declared cursor brought. */
export interface FirstFetch {
  fields: FieldDef[];
  rows: unknown[][];
}

interface RowDescription {
  fields: FieldDef[];
}

interface DataRow {
  fields: (string | null)[];
}

/**
 * A query's transaction opened, its cursor declared and the cursor's first FETCH, in one round
 * trip: each statement a Parse/Bind/Execute of the extended protocol (so the query text, inside
 * DECLARE, still cannot carry a second statement), one Sync after the last. Sent one by one they
 * took three round trips, each a wake-up of the node and of the warehouse backend. On an error the
 * server skips to the Sync, so the first error is the one reported (at once, as node-pg's own
 * queries do: the client holds the caller's next statement until the server is ready); the caller
 * ends the transaction as it would after any failed statement.
 */
export class CursorOpening implements Submittable {
  readonly done: Promise<FirstFetch>;
  private resolve!: (fetched: FirstFetch) => void;
  private reject!: (error: Error) => void;
  private fields: FieldDef[] = [];
  private parsers: ((text: string) => unknown)[] = [];
  private readonly rows: unknown[][] = [];
  private described = false;

  /** `statements`: an owed rollback, the transaction's prelude and the DECLARE, run in order; `fetch`: the FETCH whose rows are returned. */
  constructor(
    readonly statements: string[],
    readonly fetch: string,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  submit(connection: Connection): void {
    // One write for all of it, as node-pg does for its own extended queries.
    connection.stream.cork();
    try {
      for (const text of this.statements) {
        connection.parse({ text, name: '', types: [] }, true);
        connection.bind({}, true);
        connection.execute({}, true);
      }
      connection.parse({ text: this.fetch, name: '', types: [] }, true);
      connection.bind({}, true);
      connection.describe({ type: 'P', name: '' }, true);
      connection.execute({}, true);
      connection.sync();
    } finally {
      connection.stream.uncork();
    }
  }

  handleRowDescription(message: RowDescription): void {
    this.described = true;
    this.fields = message.fields;
    this.parsers = message.fields.map((f) => PG_VALUE_TYPES.getTypeParser(f.dataTypeID) as (text: string) => unknown);
  }

  // Rows only from the FETCH, the one statement described: an owed rollback's
  // pg_advisory_unlock_all() before it answers a row too, undescribed.
  handleDataRow(message: DataRow): void {
    if (!this.described) return;
    this.rows.push(message.fields.map((value, i) => (value === null ? null : this.parsers[i](value))));
  }

  // The first error settles it; a later ready-for-query no longer does.
  handleError(error: Error): void {
    this.reject(error);
  }

  handleReadyForQuery(): void {
    this.resolve({ fields: this.fields, rows: this.rows });
  }

  // Statement ends, and messages a FETCH of a declared cursor never sends: nothing to do.
  readonly handleCommandComplete = ignore;
  readonly handleEmptyQuery = ignore;
  readonly handlePortalSuspended = ignore;
  readonly handleCopyInResponse = ignore;
  readonly handleCopyData = ignore;
}
