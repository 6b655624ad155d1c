import { z } from 'zod';
import { CLIENT_REQUEST_ID_MAX, QUERY_NAME_MAX } from '../events/query.events';
import { LensSessionHandleSchema } from '../wire/lens-types';

/*
 * quarry.v1 requests as the server receives them (proto-loader with QUARRY_PROTO_LOADER_OPTIONS:
 * camelCase, defaults filled in), checked at runtime before any use case sees them. A message field
 * the client left out arrives as null.
 */

const session = LensSessionHandleSchema.nullable();
const text = z.string();
const conf = z.record(z.string(), z.string());
const QUERY_HANDLE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const GrpcOpenSessionSchema = z.object({ user: text, password: text, database: text, conf });
export const GrpcSessionOnlySchema = z.object({ session });
export const GrpcSetParamSchema = z.object({ session, key: text, value: text });
export const GrpcGetParamsSchema = z.object({ session, key: text, verbose: z.boolean() });
export const GrpcResourceSchema = z.object({ type: text, path: text });
export const GrpcAddResourceSchema = z.object({ session, resource: GrpcResourceSchema.nullable() });
export const GrpcListResourcesSchema = z.object({ session, type: text });
export const GrpcSubmitSchema = z.object({
  session,
  query: text,
  conf,
  queryName: text.max(QUERY_NAME_MAX, `queryName is longer than ${QUERY_NAME_MAX} characters`),
  requestId: text.max(CLIENT_REQUEST_ID_MAX, `requestId is longer than ${CLIENT_REQUEST_ID_MAX} characters`),
});
export const GrpcQueryRequestSchema = z.object({ session, queryHandle: text.regex(QUERY_HANDLE, 'queryHandle is not a query handle') });
export const GrpcListQueriesSchema = z.object({
  session,
  states: z.array(text),
  queryName: text,
  driver: text,
  fromTime: z.number().int().nonnegative(),
  toTime: z.number().int().nonnegative(),
});
export const GrpcFetchResultSchema = GrpcQueryRequestSchema.extend({
  fromIndex: z.number().int().nonnegative(),
  batchSize: z.number().int().min(0).max(10_000, 'batchSize is at most 10000'),
});

export type GrpcOpenSession = z.infer<typeof GrpcOpenSessionSchema>;
export type GrpcSubmit = z.infer<typeof GrpcSubmitSchema>;
export type GrpcListQueries = z.infer<typeof GrpcListQueriesSchema>;
export type GrpcFetchResult = z.infer<typeof GrpcFetchResultSchema>;

/** quarry.v1.Column and ColumnValues, as the server writes a RowBatch. */
export interface GrpcColumnValues {
  nulls: boolean[];
  bools: boolean[];
  ints: (number | string)[];
  doubles: number[];
  strings: string[];
}
export interface GrpcRowBatch {
  columns: { name: string; type: string }[];
  fromIndex: number;
  rowCount: number;
  values: GrpcColumnValues[];
}
