import { loadSync } from '@grpc/proto-loader';
import { QUARRY_PROTO_LOADER_OPTIONS, quarryProtoPath } from './quarry-proto';

/** FetchResult's answer as @grpc/proto-loader writes and reads it. */
export interface FetchResultCodec {
  responseSerialize(value: unknown): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}

/**
 * FetchResult's messages as a generic gRPC client sees them (proto-loader, BIGINTs as strings):
 * the yardstick Quarry's own RowBatch encoders are held to.
 */
export function fetchResultCodec(): FetchResultCodec {
  const service = loadSync(quarryProtoPath(), { ...QUARRY_PROTO_LOADER_OPTIONS, longs: String })['quarry.v1.QueryService'] as unknown as Record<string, FetchResultCodec>;
  return service['FetchResult'];
}
