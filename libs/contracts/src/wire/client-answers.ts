import { z } from 'zod';
import { API_RESULT_STATUSES, QueryHandleSchema } from './lens-types';
import { QUERY_STATES } from './query-types';

/*
 * The JSON answers (Accept: application/json) a client reads, as runtime schemas: what serialize()
 * writes for each root, with Lens's root wrapping. Clients (the `quarry` CLI) validate every answer
 * with these, so a server that answers something else is reported as such, not half-read. Unknown
 * fields pass: a newer server may add some.
 */

/** POST session. */
export const SessionHandleAnswerSchema = z.object({ lensSessionHandle: z.object({ publicId: z.string(), secretId: z.string() }) });

/** DELETE session, PUT session/params, resources, DELETE queries/{handle}. */
export const ApiResultAnswerSchema = z.object({ apiResult: z.object({ status: z.enum(API_RESULT_STATUSES), message: z.string().optional() }) });

/** GET session/params, session/resources/list: `elements` left out when empty. */
export const StringListAnswerSchema = z.object({ stringList: z.object({ elements: z.array(z.string()).optional() }) });

const LensErrorSchema = z.object({ code: z.number(), message: z.string() });

/** POST queryapi/queries with EXECUTE: a query handle in `data`, or an `error`. */
export const SubmitAnswerSchema = z.object({
  lensAPIResult: z.object({
    id: z.string(),
    data: z.object({ type: z.literal('queryHandle'), handleId: z.string() }).optional(),
    error: LensErrorSchema.optional(),
  }),
});

export const QueryStatusSchema = z.object({
  progress: z.number(),
  status: z.enum(QUERY_STATES),
  statusMessage: z.string().optional(),
  isResultSetAvailable: z.boolean(),
  errorMessage: z.string().optional(),
  progressMessage: z.string().optional(),
  queueNumber: z.number().optional(),
});
export type QueryStatusAnswer = z.infer<typeof QueryStatusSchema>;

/** GET queryapi/queries/{handle}. */
export const LensQueryAnswerSchema = z.object({
  lensQuery: z.object({
    queryHandle: QueryHandleSchema,
    userQuery: z.string(),
    submittedUser: z.string(),
    selectedDriverName: z.string().optional(),
    isPersistent: z.boolean(),
    status: QueryStatusSchema,
    submissionTime: z.number(),
    launchTime: z.number(),
    finishTime: z.number(),
    queryName: z.string().optional(),
  }),
});
export type LensQueryAnswer = z.infer<typeof LensQueryAnswerSchema>['lensQuery'];

/** GET queryapi/queries: a JSON list of `{queryHandle: {handleId}}`. */
export const QueryHandleListAnswerSchema = z.array(z.object({ queryHandle: z.object({ handleId: z.string() }) }));

/** GET .../resultsetmetadata. */
export const ResultSetMetadataAnswerSchema = z.object({
  queryResultSetMetadata: z.object({ columns: z.array(z.object({ name: z.string(), type: z.string() })) }),
});

/** One cell: `{type, value}` as ResultRow writes it, or null for an SQL NULL. */
const CellSchema = z.object({ type: z.string(), value: z.unknown() }).nullable();
/** GET .../resultset with fromindex/fetchsize: a page of rows. */
export const ResultPageAnswerSchema = z.object({
  inMemoryQueryResult: z.object({ rows: z.array(z.object({ values: z.array(CellSchema) })).optional() }),
});
export type ResultCell = z.infer<typeof CellSchema>;

/** GET /cluster/nodes (not a Lens route: Quarry's cluster view). */
export const ClusterNodesAnswerSchema = z.object({
  nodes: z.array(
    z.object({
      nodeId: z.string(),
      incarnation: z.string(),
      httpUrl: z.string(),
      services: z.array(z.string()),
      state: z.string(),
      joinedAt: z.string(),
      endedAt: z.string().nullable(),
      lastHeartbeatAt: z.string().nullable(),
      msSinceHeartbeat: z.number().nullable(),
      runningQueries: z.object({ count: z.number(), handles: z.array(z.string()) }),
      heldResults: z.object({ count: z.number(), bytes: z.number() }),
    }),
  ),
});
export type ClusterNodeAnswer = z.infer<typeof ClusterNodesAnswerSchema>['nodes'][number];
