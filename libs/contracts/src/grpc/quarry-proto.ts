import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The package of Quarry's gRPC services (SessionService, QueryService, ClusterService). */
export const QUARRY_GRPC_PACKAGE = 'quarry.v1';
export const QUARRY_GRPC_SERVICES = ['quarry.v1.SessionService', 'quarry.v1.QueryService', 'quarry.v1.ClusterService'] as const;

/** The .proto file, relative to this folder (and to the repository's libs/contracts/src/grpc). */
const PROTO_RELATIVE = 'quarry/v1/quarry.proto';

/**
 * How @grpc/proto-loader reads the proto, on the server and in Quarry's own clients: fields in
 * camelCase, 64-bit integers as numbers (times and row indexes; a client wanting BIGINTs beyond
 * 2^53 exactly loads with `longs: String`), defaults filled in, enums as names.
 */
export const QUARRY_PROTO_LOADER_OPTIONS = { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true } as const;

/** Trailing metadata of a failed call: the Lens error's code, its name, and when asking again may work. */
export const GRPC_LENS_CODE = 'lens-code';
export const GRPC_LENS_ERROR = 'lens-error';
export const GRPC_RETRY_AFTER = 'retry-after';

/**
 * Where quarry.proto is: beside the compiled code when the build copied it there (the Docker image),
 * else in the repository this code was built from (tsc does not copy .proto files into dist/).
 */
export function quarryProtoPath(): string {
  const beside = join(__dirname, PROTO_RELATIVE);
  if (existsSync(beside)) return beside;
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    const inRepo = join(dir, 'libs/contracts/src/grpc', PROTO_RELATIVE);
    if (existsSync(inRepo)) return inRepo;
  }
  throw new Error(`${PROTO_RELATIVE} is neither beside ${__dirname} nor in a repository above it`);
}
