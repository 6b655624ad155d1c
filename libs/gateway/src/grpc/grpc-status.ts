import { Metadata, status } from '@grpc/grpc-js';
import { GRPC_LENS_CODE, GRPC_LENS_ERROR, GRPC_RETRY_AFTER, type LensError, type LensErrorName } from '@quarry/contracts';

/**
 * The gRPC status of each Lens error, the one mapping behind every quarry.v1 failure (the Lens
 * code travels beside it in the trailing metadata). A session that is closed, unknown or
 * someone else's is a credential that no longer works: UNAUTHENTICATED, as bad credentials are.
 */
export const GRPC_STATUS_OF: Record<LensErrorName, status> = {
  INTERNAL_SERVER_ERROR: status.INTERNAL,
  INVALID_XML_ERROR: status.INVALID_ARGUMENT,
  RESOURCE_NOT_FOUND: status.NOT_FOUND,
  NOT_AUTHORIZED: status.PERMISSION_DENIED,
  MISSING_PARAMETERS: status.INVALID_ARGUMENT,
  INVALID_PARAMETER_VALUE: status.INVALID_ARGUMENT,
  SESSION_ID_NOT_PROVIDED: status.UNAUTHENTICATED,
  NULL_OR_EMPTY_OR_BLANK_QUERY: status.INVALID_ARGUMENT,
  UNSUPPORTED_OPERATION: status.UNIMPLEMENTED,
  TOO_MANY_OPEN_SESSIONS: status.RESOURCE_EXHAUSTED,
  SESSION_CLOSED: status.UNAUTHENTICATED,
  INVALID_HANDLE: status.INVALID_ARGUMENT,
  NULL_OR_EMPTY_ARGUMENT: status.INVALID_ARGUMENT,
  SERVER_OVERLOADED: status.UNAVAILABLE,
  SESSION_UNAUTHORIZED: status.PERMISSION_DENIED,
  BAD_CREDENTIALS: status.UNAUTHENTICATED,
  RESULT_GONE: status.NOT_FOUND,
  RESULT_UNAVAILABLE: status.UNAVAILABLE,
  SERVICE_UNAVAILABLE: status.UNAVAILABLE,
  NODE_ENDED: status.UNAVAILABLE,
  PAYLOAD_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  UNSUPPORTED_MEDIA_TYPE: status.INVALID_ARGUMENT,
  TOO_MANY_LOGIN_ATTEMPTS: status.RESOURCE_EXHAUSTED,
};

/** What grpc-js sends for a failed call: the status, the message as details, the Lens code in trailing metadata. */
export interface GrpcFailure {
  code: status;
  details: string;
  metadata: Metadata;
}

export function grpcFailureOf(lens: LensError): GrpcFailure {
  const metadata = new Metadata();
  metadata.set(GRPC_LENS_CODE, String(lens.code));
  metadata.set(GRPC_LENS_ERROR, lens.errorName);
  if (lens.retryAfterSeconds !== undefined) metadata.set(GRPC_RETRY_AFTER, String(lens.retryAfterSeconds));
  return { code: GRPC_STATUS_OF[lens.errorName], details: lens.message, metadata };
}
