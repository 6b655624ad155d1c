import type { AppendSql } from '@quarry/eventstore';

/** Client request ids (`query.request.id`): a retried submit finds the query its first try made. */
export const queryRequests = {
  /** For an append's writes: the request id taken with the submit; a taken one fails the statement (unique violation). */
  inserted(sql: AppendSql, userName: string, requestId: string, queryHandle: string): string {
    return `INSERT INTO query_requests (user_name, request_id, query_handle)
      SELECT ${sql.bind(userName)}::text, ${sql.bind(requestId)}::text, ${sql.bind(queryHandle)}::uuid WHERE ${sql.written}`;
  },
};
