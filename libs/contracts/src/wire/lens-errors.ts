import type { APIResult, LensAPIResult, LensErrorPayload, LensErrorTO } from './lens-types';

/*
 * Codes and HTTP statuses follow lens-api/src/main/resources/lens-errors.conf with the enums
 * lens-api/src/main/java/org/apache/lens/api/error/LensCommonErrorCode.java and
 * lens-server/src/main/java/org/apache/lens/server/error/LensServerErrorCode.java. The messages
 * are Quarry's own wording. Clients act on the code and HTTP status, not the text.
 */
export const LENS_ERRORS = {
  INTERNAL_SERVER_ERROR: { code: 1001, httpStatus: 500, message: 'Internal server error' },
  INVALID_XML_ERROR: { code: 1002, httpStatus: 400, message: 'The XML sent is not valid' },
  /** Quarry answers an unknown query handle with this (Lens threw a bare 404). */
  RESOURCE_NOT_FOUND: { code: 1003, httpStatus: 404, message: 'No such resource' },
  /** 401 in Lens 2.7's lens-errors.conf, 403 from 2.8 on; Quarry follows 2.8. */
  NOT_AUTHORIZED: { code: 1004, httpStatus: 403, message: 'Not allowed' },
  MISSING_PARAMETERS: { code: 1005, httpStatus: 400, message: 'Required parameters are missing' },
  INVALID_PARAMETER_VALUE: { code: 1006, httpStatus: 400, message: 'A parameter has an invalid value' },
  SESSION_ID_NOT_PROVIDED: { code: 2001, httpStatus: 400, message: 'No session id was given, or it could not be read' },
  NULL_OR_EMPTY_OR_BLANK_QUERY: { code: 2002, httpStatus: 400, message: 'The query is missing or blank' },
  UNSUPPORTED_OPERATION: { code: 2003, httpStatus: 400, message: 'This operation is not supported' },
  TOO_MANY_OPEN_SESSIONS: { code: 2004, httpStatus: 429, message: 'This user has too many open sessions' },
  SESSION_CLOSED: { code: 2005, httpStatus: 410, message: 'The session is closed or unknown' },
  INVALID_HANDLE: { code: 2006, httpStatus: 400, message: 'The handle is not valid' },
  NULL_OR_EMPTY_ARGUMENT: { code: 2007, httpStatus: 400, message: 'An argument is missing or empty' },
  SERVER_OVERLOADED: { code: 2008, httpStatus: 500, message: 'The server is overloaded; try again later' },
  /** In LensServerErrorCode from 2.8 with no entry in lens-errors.conf; the status is Quarry's choice. */
  SESSION_UNAUTHORIZED: { code: 2009, httpStatus: 403, message: 'The session belongs to another user' },
  /**
   * Quarry's own (9xxx is outside every Lens range). Lens refused bad credentials with a bare HTTP
   * 401, which the Java CLI checks for (LensClientSingletonWrapper) to prompt for a password.
   */
  BAD_CREDENTIALS: { code: 9001, httpStatus: 401, message: 'Wrong user name or password' },
  /** Quarry's own: an in-memory result whose holder ended or whose time ran out. */
  RESULT_GONE: { code: 9002, httpStatus: 410, message: 'The result is gone' },
  /** Quarry's own: the node holding the result does not answer now; asking again may work. */
  RESULT_UNAVAILABLE: { code: 9003, httpStatus: 503, message: 'The result cannot be reached right now; try again shortly' },
  /** Quarry's own: its database is down, restarting or dropped the connection; asking again may work. */
  SERVICE_UNAVAILABLE: { code: 9004, httpStatus: 503, message: "Quarry's database cannot be reached right now; try again shortly" },
  /** Quarry's own: the node that took the request has left the cluster (or was declared down); another node answers. */
  NODE_ENDED: { code: 9005, httpStatus: 503, message: 'This node has left the cluster; send the request again (another node will answer it)' },
  /** Quarry's own: a body or form field over its limit (Lens's Jersey had no such check). */
  PAYLOAD_TOO_LARGE: { code: 9006, httpStatus: 413, message: 'The request is larger than this server accepts' },
  /** Quarry's own: a body whose Content-Type (or charset) the endpoint does not read. */
  UNSUPPORTED_MEDIA_TYPE: { code: 9007, httpStatus: 415, message: 'The request body has a content type this endpoint does not read' },
  /** Quarry's own: failed logins for a user name or from an address went over the limit; Retry-After says when to try again. */
  TOO_MANY_LOGIN_ATTEMPTS: { code: 9008, httpStatus: 429, message: 'Too many failed logins; try again later' },
} as const satisfies Record<string, { code: number; httpStatus: number; message: string }>;

export type LensErrorName = keyof typeof LENS_ERRORS;

export function lensErrorNameOf(code: number): LensErrorName | undefined {
  return (Object.keys(LENS_ERRORS) as LensErrorName[]).find((name) => LENS_ERRORS[name].code === code);
}

/**
 * A failure to report to a Lens client, in whichever answer shape the endpoint uses. Lens's
 * GenericExceptionMapper (lens-server/.../error/GenericExceptionMapper.java) chose by the method's
 * return type: LensAPIResult got the error inside, APIResult got FAILED, and anything else (POST
 * session, GET queries/{handle}) got just the message as text with the HTTP status.
 */
export class LensError extends Error {
  override readonly name = 'LensError';
  readonly code: number;
  readonly httpStatus: number;
  readonly payload?: LensErrorPayload;
  /** Sent as Retry-After: when asking again may work. */
  readonly retryAfterSeconds?: number;

  constructor(readonly errorName: LensErrorName, message?: string, options?: { payload?: LensErrorPayload; cause?: unknown; retryAfterSeconds?: number }) {
    super(message ?? LENS_ERRORS[errorName].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = LENS_ERRORS[errorName].code;
    this.httpStatus = LENS_ERRORS[errorName].httpStatus;
    this.payload = options?.payload;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  /** For endpoints answering APIResult: Lens reported their failures as FAILED with the message. */
  toApiResult(): APIResult {
    return { status: 'FAILED', message: this.message };
  }

  toErrorTO(): LensErrorTO {
    return { code: this.code, message: this.message, ...(this.payload && { payload: this.payload }) };
  }

  /** For endpoints answering LensAPIResult; `id` is the request id. */
  toLensAPIResult(id: string): LensAPIResult {
    return { id, error: this.toErrorTO() };
  }
}

/** Error 2003 with the supported operations as its payload, lower-cased as Lens sent them. */
export function unsupportedOperation(supported: readonly string[]): LensError {
  const names = supported.map((op) => op.toLowerCase());
  return new LensError('UNSUPPORTED_OPERATION', `This operation is not supported; supported: ${names.join(', ')}`, {
    payload: { type: 'supportedOperations', supportedOperations: names },
  });
}
