import type { QuarryEvent } from '@quarry/contracts';
import type { Projection, Sql } from '@quarry/eventstore';
import { statusAfter } from '../domain/query-status';

const FINISHING = new Set(['QuerySucceeded', 'QueryFailed', 'QueryCanceled']);
/** Events after which no node holds the query's rows in memory any more. */
const RELEASING = new Set(['ResultExpired', 'ResultLost', 'ResultDeleted', 'QueryClosed', 'QueryRequeued', 'ResultRerunRequested', 'ResultPersisted']);

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
    if ((event.type === 'QuerySucceeded' || event.type === 'ResultRecomputed') && event.payload.held) {
      await tx.query('UPDATE queries SET result_holder_node = $2, result_holder_incarnation = $3, result_holder_bytes = $4 WHERE query_handle = $1', [
        event.payload.queryHandle,
        event.payload.held.nodeId,
        event.payload.held.incarnation,
        event.payload.held.bytes,
      ]);
    }
    if (RELEASING.has(event.type) && 'queryHandle' in event.payload) {
      await tx.query('UPDATE queries SET result_holder_node = NULL, result_holder_incarnation = NULL, result_holder_bytes = NULL, version = $2 WHERE query_handle = $1', [
        event.payload.queryHandle,
        event.streamVersion,
      ]);
    }
    // QuerySubmitted was handled above; an event that leaves the status alone changes nothing here.
    const status = statusAfter(event.type);
    if (!status || !('queryHandle' in event.payload)) return;
    await tx.query(
      `UPDATE queries SET status = $2, version = $3,
         executor_node_id = COALESCE($4, executor_node_id),
         finished_at = CASE WHEN $5 THEN $6::timestamptz WHEN $2 = 'QUEUED' THEN NULL ELSE finished_at END
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
