import { z } from 'zod';
import type { QueryHandleWithResultSet } from './result-types';

/*
 * The Lens wire types, with field names and order as Lens 2.7/2.8 puts them on the wire (JAXB for
 * XML, MOXy for JSON). Each type names the lens-api source it follows, under
 * lens-api/src/main/java/org/apache/lens/api/.
 */

/** Java's UUID.toString form; Lens's UUIDAdapter reads these case-insensitively. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Lower-cased on the way in, so one handle never has two spellings (the secret is hashed). */
export const LensUuidSchema = z
  .string()
  .regex(UUID_PATTERN, 'is not a UUID')
  .transform((id) => id.toLowerCase());

/** LensSessionHandle.java: root `lensSessionHandle`, fields publicId, secretId. */
export const LensSessionHandleSchema = z.object({ publicId: LensUuidSchema, secretId: LensUuidSchema }).strict();
export type LensSessionHandle = z.infer<typeof LensSessionHandleSchema>;

/** APIResult.java: root `apiResult`; Lens leaves `message` out when it is null. */
export const API_RESULT_STATUSES = ['SUCCEEDED', 'PARTIAL', 'FAILED'] as const;
export type ApiResultStatus = (typeof API_RESULT_STATUSES)[number];
export interface APIResult {
  status: ApiResultStatus;
  message?: string;
}

/** StringList.java: root `stringList`, one `elements` element per string, none when empty. */
export interface StringList {
  elements: string[];
}

/** LensConf.java: root `conf`, a map under `properties` (see parse-lens-conf.ts for the forms). */
export type LensConf = Record<string, string>;

/** query/QueryHandle.java: root `queryHandle`. */
export const QueryHandleSchema = z.object({ handleId: LensUuidSchema }).strict();
export type QueryHandle = z.infer<typeof QueryHandleSchema>;

/**
 * session/UserSessionInfo.java (GET session/sessions). `handle` is the public id only; the times are
 * epoch milliseconds (Java long, a JSON number).
 */
export interface UserSessionInfo {
  handle: string;
  userName: string;
  activeQueries: QueryHandle[];
  creationTime: number;
  lastAccessTime: number;
}

/** query/QueryCostType.java; VERY_LOW is 2.8 only, so 2.7 clients may not know it. */
export const QUERY_COST_TYPES = ['VERY_LOW', 'LOW', 'MEDIUM', 'HIGH'] as const;
export type QueryCostType = (typeof QUERY_COST_TYPES)[number];

/** result/QueryCostTO.java (ESTIMATE). */
export interface QueryCost {
  estimatedExecTimeMillis?: number;
  estimatedResourceUsage?: number;
  costType?: QueryCostType;
}

/**
 * query/QueryPlan.java (EXPLAIN). Lens URL-encodes `planString` (DriverQueryPlan in
 * lens-server-api); the Java client decodes it, so callers pass it encoded. Prepared queries are
 * not offered, so prepareHandle is not modelled.
 */
export interface QueryPlan {
  tablesQueried: string[];
  hasSubQuery: boolean;
  execMode?: string;
  scanMode?: string;
  planString?: string;
  queryCost?: QueryCost;
}

/**
 * What `data` may hold. Lens types it by xsi:type in XML and by a `type` key in JSON; `type` here
 * is that wire name (query/QuerySubmitResult.java lists the subtypes). queryHandleWithResultSet is
 * the EXECUTE_WITH_TIMEOUT answer (result-types.ts).
 */
export type LensAPIResultData =
  | ({ type: 'queryHandle' } & QueryHandle)
  | ({ type: 'queryCostTO' } & QueryCost)
  | ({ type: 'queryPlan' } & QueryPlan)
  | ({ type: 'queryHandleWithResultSet' } & QueryHandleWithResultSet);

/** SupportedOperations.java, the payload of error 2003; Lens lower-cases the names. */
export interface SupportedOperationsPayload {
  type: 'supportedOperations';
  supportedOperations: string[];
}
export type LensErrorPayload = SupportedOperationsPayload;

/** result/LensErrorTO.java: element `error`; children sit under `childErrors`, each an `error`. */
export interface LensErrorTO {
  code: number;
  message: string;
  /** Lens always filled it; Quarry leaves it out so no server internals leak. */
  stackTrace?: string;
  payload?: LensErrorPayload;
  childErrors?: LensErrorTO[];
}

/** result/LensAPIResult.java: root `lensAPIResult`. Lens's resources passed a null apiVersion. */
export interface LensAPIResult {
  apiVersion?: string;
  id: string;
  data?: LensAPIResultData;
  error?: LensErrorTO;
}
