import type { QuarryEvent } from '@quarry/contracts';
import type { Projection, Sql } from '@quarry/eventstore';

const STATUS_OF: Partial<Record<QuarryEvent['type'], string>> = {
  QueryLaunched: 'LAUNCHED',
  QueryRunning: 'RUNNING',
  QueryExecuted: 'EXECUTED',
  QuerySucceeded: 'SUCCESSFUL',
  QueryFailed: 'FAILED',
  QueryCanceled: 'CANCELED',
  QueryClosed: 'CLOSED',
};
const FINISHING = new Set(['QuerySucceeded', 'QueryFailed', 'QueryCanceled']);

/** The `queries` read model, for listing and filtering; one query's status is read from its stream. */
export const queriesProjection: Projection = {
  name: 'queries',
  families: ['query'],
  tables: ['queries'],
  async apply(tx: Sql, event: QuarryEvent) {
    if (event.type === 'QuerySubmitted') {
      const p = event.payload;
      await tx.query(
        `INSERT INTO queries (query_handle, session_public_id, user_name, query_name, driver, status, submitted_at, version)
         VALUES ($1, $2, $3, $4, $5, 'QUEUED', $6, $7)`,
        [p.queryHandle, p.sessionPublicId, p.userName, p.queryName, p.driver, event.occurredAt, event.streamVersion],
      );
      return;
    }
    const status = STATUS_OF[event.type];
    if (!status || !('queryHandle' in event.payload)) return;
    await tx.query(
      `UPDATE queries SET status = $2, version = $3,
         executor_node_id = COALESCE($4, executor_node_id),
         finished_at = CASE WHEN $5 THEN $6::timestamptz ELSE finished_at END
       WHERE query_handle = $1`,
      [
        event.payload.queryHandle,
        status,
        event.streamVersion,
        event.type === 'QueryLaunched' ? event.payload.executorNodeId : null,
        FINISHING.has(event.type),
        event.occurredAt,
      ],
    );
  },
};
