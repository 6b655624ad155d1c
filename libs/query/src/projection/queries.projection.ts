import { inlineProjection, type InlineSql } from '@quarry/eventstore';
import { queryRowChange, type QueryRowChange } from './query-row-change';

/**
 * The `queries` read model, for listing and filtering; one query's status is read from its stream.
 * Clients list their queries right after submitting them, so it is kept by the append itself
 * (ADR 12): one query's events change its row in one write, inside the append's statement.
 */
export const queriesProjection = inlineProjection({
  name: 'queries',
  families: ['query'],
  tables: ['queries'],
  write(events, sql) {
    const change = queryRowChange(events);
    if (!change) return undefined;
    return change.submitted ? insertRow(change, change.submitted, sql) : updateRow(change, sql);
  },
});

/** The columns a change sets, as SQL expressions (bound values, the version from the append). */
function changedColumns(change: QueryRowChange, sql: InlineSql): Record<string, string> {
  const columns: Record<string, string> = {};
  if (change.status) columns.status = `${sql.bind(change.status)}::text`;
  if (change.versionOf !== undefined) columns.version = sql.versionOf(change.versionOf);
  if (change.executorNodeId !== undefined) columns.executor_node_id = `${sql.bind(change.executorNodeId)}::text`;
  if (change.finishedAt !== undefined) columns.finished_at = `${sql.bind(change.finishedAt)}::timestamptz`;
  if (change.holder !== undefined) {
    columns.result_holder_node = `${sql.bind(change.holder?.nodeId ?? null)}::text`;
    columns.result_holder_incarnation = `${sql.bind(change.holder?.incarnation ?? null)}::uuid`;
    columns.result_holder_bytes = `${sql.bind(change.holder?.bytes ?? null)}::bigint`;
  }
  return columns;
}

function insertRow(change: QueryRowChange, submitted: NonNullable<QueryRowChange['submitted']>, sql: InlineSql): string {
  const columns: Record<string, string> = {
    query_handle: `${sql.bind(change.queryHandle)}::uuid`,
    session_public_id: `${sql.bind(submitted.sessionPublicId)}::uuid`,
    user_name: `${sql.bind(submitted.userName)}::text`,
    query_name: `${sql.bind(submitted.queryName)}::text`,
    driver: `${sql.bind(submitted.driver)}::text`,
    submitted_at: `${sql.bind(submitted.submittedAt)}::timestamptz`,
    ...changedColumns(change, sql),
  };
  // Nothing is written when the append wrote no event (its version is then NULL).
  return `INSERT INTO queries (${Object.keys(columns).join(', ')}) SELECT ${Object.values(columns).join(', ')} WHERE ${sql.versionOf(0)} IS NOT NULL`;
}

function updateRow(change: QueryRowChange, sql: InlineSql): string {
  const set = Object.entries(changedColumns(change, sql)).map(([column, value]) => `${column} = ${value}`);
  return `UPDATE queries SET ${set.join(', ')} WHERE query_handle = ${sql.bind(change.queryHandle)}::uuid AND ${sql.versionOf(0)} IS NOT NULL`;
}
