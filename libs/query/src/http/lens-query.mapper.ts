import type { LensQuery, PersistedResultInfo, PersistentQueryResult, QueryResultSetMetadata, ResultColumnType, ResultRow, ResultValue } from '@quarry/contracts';
import { RESULT_COLUMN_TYPES, STRING_COLUMN, type CellColumn, type DriverRows } from '@quarry/contracts';
import type { ColumnMeta } from '@quarry/drivers';
import type { QueryView } from '../application/query.service';
import type { QueryState } from '../domain/query.state';

const millis = (iso?: string) => (iso ? Date.parse(iso) : 0);

/** A query's state as Lens's LensQuery, with every time Lens reports. */
export function toLensQuery({ state, queueNumber }: QueryView): LensQuery {
  const statusMessage = [
    state.status === 'QUEUED' && queueNumber ? `queued at position ${queueNumber}` : undefined,
    state.takeoverNote,
    state.rerun ? `re-running (${state.rerun.phase}): ${state.rerun.reason}` : state.rerunReason,
    state.rerunError && `the re-run failed: ${state.rerunError}`,
    goneNote(state),
    ...state.warnings,
  ]
    .filter(Boolean)
    .join('; ');
  return {
    queryHandle: { handleId: state.handle! },
    userQuery: state.userQuery!,
    submittedUser: state.userName!,
    priority: state.priority,
    isPersistent: state.persistent,
    selectedDriverName: state.driver,
    driverQuery: state.driverQuery,
    status: {
      progress: state.progress,
      status: state.status,
      statusMessage: statusMessage || undefined,
      isResultSetAvailable: state.resultAvailable && state.status === 'SUCCESSFUL',
      errorMessage: state.errorMessage,
      progressMessage: state.progressMessage,
      queueNumber,
    },
    queryConf: state.conf,
    submissionTime: millis(state.submissionTime),
    launchTime: millis(state.launchTime),
    driverStartTime: millis(state.driverStartTime),
    driverFinishTime: millis(state.driverFinishTime),
    finishTime: millis(state.finishTime),
    closedTime: millis(state.closedTime),
    queryName: state.queryName || undefined,
  };
}

/** Why a SUCCESSFUL query has no result any more, so the status never just drops it. */
function goneNote({ resultGone: gone }: QueryState): string | undefined {
  switch (gone?.kind) {
    case 'deleted':
      return 'the result was deleted';
    case 'expired':
      return `the in-memory result expired on node ${gone.nodeId}`;
    case 'lost':
      return `the in-memory result was lost: node ${gone.nodeId} ${gone.reason === 'node-left' ? 'stopped' : gone.reason === 'node-down' ? 'is down' : 'restarted'}`;
    default:
      return undefined;
  }
}

function columnType(type: string): ResultColumnType {
  return (RESULT_COLUMN_TYPES as readonly string[]).includes(type) ? (type as ResultColumnType) : 'STRING';
}

export function toMetadata(columns: ColumnMeta[]): QueryResultSetMetadata {
  return { columns: columns.map((c) => ({ name: c.name, type: columnType(c.type) })) };
}

/** How a column's values are typed as Lens's drivers typed them, so XML carries xsi:type and JSON {type, value}. */
function cellColumn(type: ResultColumnType): CellColumn {
  switch (type) {
    case 'BOOLEAN':
      return { type: 'boolean', value: (value) => Boolean(value) };
    case 'TINYINT':
    case 'SMALLINT':
    case 'INT':
      return { type: 'int', value: (value) => Number(value) };
    case 'BIGINT':
      return { type: 'long', value: (value) => (typeof value === 'number' ? value : BigInt(String(value))) };
    case 'FLOAT':
    case 'DOUBLE':
      return { type: 'double', value: (value) => Number(value) };
    case 'DECIMAL':
      return { type: 'decimal', value: (value) => String(value) };
    default:
      return STRING_COLUMN;
  }
}

/** A page of a driver's rows with each column's typing chosen once: serialize() writes it without a ResultValue per cell. */
export function driverRowsOf(rows: unknown[][], columns: ColumnMeta[]): DriverRows {
  return { rows, columns: columns.map((c) => cellColumn(columnType(c.type))) };
}

/** A page's rows as Lens's ResultRows (where a page is nested in another answer); the same typing as driverRowsOf. */
export function toRows(rows: unknown[][], columns: ColumnMeta[]): ResultRow[] {
  const cells = driverRowsOf(rows, columns).columns;
  const cellOf = (column: CellColumn, value: NonNullable<unknown>) => ({ type: column.type, value: column.value(value) }) as ResultValue;
  return rows.map((row) => ({ values: row.map((v, i) => (v === null || v === undefined ? null : cellOf(cells[i] ?? STRING_COLUMN, v))) }));
}

/** Lens's answer for a persisted result: where it is, how big, and where any node serves it. */
export function persistentResultOf(queryHandle: string, persisted: PersistedResultInfo): PersistentQueryResult {
  return {
    persistedURI: persisted.path,
    numRows: persisted.rows,
    fileSize: persisted.bytes,
    httpResultUrl: `/lensapi/queryapi/queries/${queryHandle}/httpresultset`,
  };
}
