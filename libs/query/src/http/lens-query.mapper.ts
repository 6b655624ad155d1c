import type { LensQuery, PersistedResultInfo, PersistentQueryResult, QueryResultSetMetadata, ResultColumnType, ResultRow, ResultValue } from '@quarry/contracts';
import { RESULT_COLUMN_TYPES } from '@quarry/contracts';
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

type Cell = (value: NonNullable<unknown>) => ResultValue;

/** How a column's values are typed as Lens's drivers typed them, so XML carries xsi:type and JSON {type, value}. */
function cellOf(type: ResultColumnType): Cell {
  switch (type) {
    case 'BOOLEAN':
      return (value) => ({ type: 'boolean', value: Boolean(value) });
    case 'TINYINT':
    case 'SMALLINT':
    case 'INT':
      return (value) => ({ type: 'int', value: Number(value) });
    case 'BIGINT':
      return (value) => ({ type: 'long', value: typeof value === 'number' ? value : BigInt(String(value)) });
    case 'FLOAT':
    case 'DOUBLE':
      return (value) => ({ type: 'double', value: Number(value) });
    case 'DECIMAL':
      return (value) => ({ type: 'decimal', value: String(value) });
    default:
      return asString;
  }
}

const asString: Cell = (value) => ({ type: 'string', value: typeof value === 'string' ? value : JSON.stringify(value) });

/** A page's rows as Lens's ResultRows; each column's typing is chosen once, not per cell. */
export function toRows(rows: unknown[][], columns: ColumnMeta[]): ResultRow[] {
  const cells = columns.map((c) => cellOf(columnType(c.type)));
  return rows.map((row) => ({ values: row.map((v, i) => (v === null || v === undefined ? null : (cells[i] ?? asString)(v))) }));
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
