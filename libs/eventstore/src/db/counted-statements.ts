import type { StatementCounts } from '@quarry/platform';
import type { PoolClient } from 'pg';

type Kind = 'begin' | 'end' | 'commit' | 'may-write' | 'read';

const WRITE = /^\s*(INSERT|UPDATE|DELETE|MERGE)\b|^\s*WITH\b[\s\S]*\b(INSERT|UPDATE|DELETE)\b/i;
const ROW_LOCK = /\bFOR\s+(NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b/i;

/** Statement texts are a few constants: each is classified once. */
const kinds = new Map<string, Kind>();
const MAX_KINDS = 1000;

function kindOf(text: string, keep = true): Kind {
  let kind = kinds.get(text);
  if (kind) return kind;
  const word = text.trimStart().slice(0, 8).toUpperCase();
  if (word.startsWith('BEGIN')) kind = 'begin';
  else if (word.startsWith('COMMIT')) kind = 'commit';
  else if (word.startsWith('ROLLBACK')) kind = 'end';
  // A prepared statement's text is not here: what it touched (its row count) says whether it wrote.
  else if (word.startsWith('EXECUTE')) kind = 'may-write';
  else kind = WRITE.test(text) || ROW_LOCK.test(text) ? 'may-write' : 'read';
  if (keep && kinds.size < MAX_KINDS) kinds.set(text, kind);
  return kind;
}

/**
 * The statements of a simple query that carries several (a batch's BEGIN with its locks, its
 * record with its COMMIT: their values are literals, so these texts are not classified once and
 * kept). Split at the semicolons outside quoted literals; undefined for a single statement.
 */
function statementsOf(text: string): string[] | undefined {
  if (!text.includes(';')) return undefined;
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "'") quoted = !quoted;
    else if (text[i] === ';' && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  const statements = parts.filter((p) => p.trim() !== '');
  return statements.length > 1 ? statements : undefined;
}

/** Whether a statement's result says it touched a row. */
const touchedRows = (result: { rowCount: number | null } | undefined) => !!result?.rowCount;

interface Transaction {
  open: boolean;
  wrote: boolean;
}

/**
 * Counts what a client of Quarry's pool sends: every statement, and every commit that wrote. A
 * statement may write when it is DML or locks rows; it did when it touched a row (its row count),
 * as only then does PostgreSQL give the transaction an id whose commit flushes the WAL.
 */
export function countStatements(client: PoolClient, counts: StatementCounts): void {
  const tx: Transaction = { open: false, wrote: false };
  const send = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const first = args[0] as string | { text?: string } | undefined;
    const text = typeof first === 'string' ? first : first?.text;
    const purpose = counts.current();
    purpose.statements++;
    const several = text === undefined ? undefined : statementsOf(text);
    if (several) return sendSeveral(send, args, several.map((statement) => kindOf(statement, false)), tx, purpose);
    const kind = text === undefined ? undefined : kindOf(text);
    const touched = (result: { rowCount: number | null } | undefined) => {
      if (!touchedRows(result)) return;
      if (tx.open) tx.wrote = true;
      else purpose.writeCommits++;
    };
    // pool.query() sends with a callback (and gets no promise back): the result is seen there.
    const callback = args[args.length - 1];
    if (kind === 'may-write' && typeof callback === 'function') {
      args[args.length - 1] = (error: unknown, result: { rowCount: number | null } | undefined) => {
        if (!error) touched(result);
        return (callback as (...a: unknown[]) => unknown)(error, result);
      };
    }
    const sent = send(...args);
    switch (kind) {
      case 'begin':
        tx.open = true;
        tx.wrote = false;
        break;
      case 'commit':
        if (tx.wrote) purpose.writeCommits++;
        tx.open = tx.wrote = false;
        break;
      case 'end':
        tx.open = tx.wrote = false;
        break;
      case 'may-write':
        if (typeof (sent as Promise<unknown> | undefined)?.then !== 'function') break;
        (sent as Promise<{ rowCount: number | null }>).then(touched, () => undefined);
        break;
    }
    return sent;
  };
}

/**
 * A simple query of several statements (sent by a transaction, never with a callback) answers
 * with one result per statement, in order: they are counted as one statement (one round trip),
 * and the transaction's state follows each, once the answer is in. A query that fails is
 * followed by a ROLLBACK, which ends the transaction in the count.
 */
function sendSeveral(
  send: (...args: unknown[]) => unknown,
  args: unknown[],
  statementKinds: Kind[],
  tx: Transaction,
  purpose: { writeCommits: number },
): unknown {
  const sent = send(...args);
  if (typeof (sent as Promise<unknown> | undefined)?.then !== 'function') return sent;
  (sent as Promise<{ rowCount: number | null }[] | { rowCount: number | null }>).then(
    (answer) => {
      const results = Array.isArray(answer) ? answer : [answer];
      statementKinds.forEach((kind, i) => {
        if (kind === 'begin') {
          tx.open = true;
          tx.wrote = false;
        } else if (kind === 'commit') {
          if (tx.wrote) purpose.writeCommits++;
          tx.open = tx.wrote = false;
        } else if (kind === 'end') tx.open = tx.wrote = false;
        else if (kind === 'may-write' && touchedRows(results[i])) {
          if (tx.open) tx.wrote = true;
          else purpose.writeCommits++;
        }
      });
    },
    () => undefined,
  );
  return sent;
}
