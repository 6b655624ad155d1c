import { createHash } from 'node:crypto';
import { escapeLiteral, type QueryResultRow } from 'pg';
import type { Sql } from './sql';

/**
 * Statements that are not sent when asked but written out, to be sent later in one simple query
 * (with a transaction's COMMIT, see inTransaction's `last`): for a caller that only writes and
 * never looks at what a statement returns (each answer here is empty). Each distinct text is
 * prepared once per connection (PREPARE, sent before its first use; it outlives the transaction
 * it was sent in, so the connection is marked when the statements are taken to be sent) and run
 * by EXECUTE with its values written in as quoted literals: what node-postgres sends as untyped
 * text parameters, so the server reads them as it read the parameters.
 */
export class DeferredStatements implements Sql {
  private readonly prepares: string[] = [];
  private readonly executes: string[] = [];
  /** Prepared by these statements, marked on the connection once they are taken to be sent. */
  private readonly preparing = new Set<string>();

  constructor(private readonly connection: object) {}

  query<R extends QueryResultRow = QueryResultRow>(
    statement: string | { text: string; values?: unknown[] },
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }> {
    const { text, values: given = [] } = typeof statement === 'string' ? { text: statement, values } : statement;
    const name = preparedName(text);
    if (!preparedOn(this.connection).has(name) && !this.preparing.has(name)) {
      this.preparing.add(name);
      this.prepares.push(`PREPARE ${name} AS ${text}`);
    }
    this.executes.push(given.length === 0 ? `EXECUTE ${name}` : `EXECUTE ${name}(${given.map(literalOf).join(', ')})`);
    return Promise.resolve({ rows: [], rowCount: null });
  }

  /**
   * What was asked, in order, as statements without parameters, to be sent now, their PREPAREs
   * first: those are marked on the connection (one that fails is found by its EXECUTE, see
   * inTransaction).
   */
  take(): readonly string[] {
    const { prepares, executes } = this.takeApart();
    return [...prepares, ...executes];
  }

  /**
   * take(), the PREPAREs apart: a caller may send them before a statement that can refuse the
   * transaction, since a PREPARE stays with the connection even when its transaction rolls back.
   */
  takeApart(): { prepares: readonly string[]; executes: readonly string[] } {
    const names = preparedOn(this.connection);
    for (const name of this.preparing) names.add(name);
    this.preparing.clear();
    return { prepares: this.prepares, executes: this.executes };
  }
}

/** Per connection, the names it has prepared (a bounded set: one per statement text of the callers). */
const prepared = new WeakMap<object, Set<string>>();

function preparedOn(connection: object): Set<string> {
  let names = prepared.get(connection);
  if (!names) prepared.set(connection, (names = new Set()));
  return names;
}

const names = new Map<string, string>();

/** Derived from the text: equal texts share one prepared statement, different ones never meet under one name. */
function preparedName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `quarry_deferred_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * A value as node-postgres would send it as a text parameter, quoted. Text, numbers and booleans
 * only (JSON goes as the caller's text): anything else is refused rather than written in some
 * other way than the driver would send it.
 */
export function literalOf(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return escapeLiteral(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
    return escapeLiteral(String(value));
  }
  if (typeof value === 'bigint' || typeof value === 'boolean') return escapeLiteral(String(value));
  throw new Error(`a deferred statement takes text, numbers and booleans only, not ${Object.prototype.toString.call(value)}`);
}
