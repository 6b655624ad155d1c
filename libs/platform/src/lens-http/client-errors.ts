import { HttpException } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import { ZodError, type ZodIssue } from 'zod';
import { BODY_LIMITS } from './body-limits';

/** A client's mistake as a Lens error, and the HTTP status to answer it with. */
export interface ClientError {
  error: LensError;
  status: number;
}

const as = (error: LensError, status = error.httpStatus): ClientError => ({ error, status });

/**
 * The one place that tells what a client sent wrong, as a Lens error: Nest's HTTP errors (an
 * unknown route), the body parsers' errors (too large, unreadable, unsupported charset), multer's
 * limits, and a zod schema refusing a value on its way into an event. undefined: not the client's.
 */
export function clientErrorOf(error: unknown): ClientError | undefined {
  if (error instanceof LensError) return as(error);
  if (error instanceof ZodError) return as(fromZod(error));
  if (error instanceof HttpException) return fromStatus(error.getStatus(), error.message);
  if (isMulterError(error)) return as(fromMulter(error));
  if (isBodyParserError(error)) return fromBodyParser(error);
  return undefined;
}

function fromStatus(status: number, message: string): ClientError | undefined {
  if (status >= 500) return undefined;
  if (status === 404) return as(new LensError('RESOURCE_NOT_FOUND', message));
  if (status === 413) return as(new LensError('PAYLOAD_TOO_LARGE', message));
  if (status === 415) return as(new LensError('UNSUPPORTED_MEDIA_TYPE', message));
  // Any other 4xx keeps its status, with Lens's code for a bad parameter.
  return as(new LensError('INVALID_PARAMETER_VALUE', message), status);
}

// ---- zod: the field and the limit it broke, never zod's JSON dump.

function fromZod(error: ZodError): LensError {
  return new LensError('INVALID_PARAMETER_VALUE', error.issues.slice(0, 3).map(describeIssue).join('; '));
}

function describeIssue(issue: ZodIssue): string {
  const field = issue.path.join('.') || 'the value';
  switch (issue.code) {
    case 'too_big':
      return `${field} is too long: at most ${String(issue.maximum)} ${issue.type === 'string' ? 'characters' : 'items'}`;
    case 'too_small':
      return `${field} is too short: at least ${String(issue.minimum)} ${issue.type === 'string' ? 'characters' : 'items'}`;
    default:
      return `${field}: ${issue.message}`;
  }
}

// ---- multer (multipart): which limit, with its value.

interface MulterError extends Error {
  code: string;
  field?: string;
}

function isMulterError(error: unknown): error is MulterError {
  return error instanceof Error && error.name === 'MulterError' && typeof (error as MulterError).code === 'string';
}

const MULTIPART_LIMIT_OF: Record<string, string> = {
  LIMIT_FIELD_VALUE: `a form field has at most ${BODY_LIMITS.multipart.fieldSize} bytes`,
  LIMIT_FILE_SIZE: `a form part has at most ${BODY_LIMITS.multipart.fileSize} bytes`,
  LIMIT_FIELD_KEY: `a form field name has at most ${BODY_LIMITS.multipart.fieldNameSize} bytes`,
  LIMIT_FIELD_COUNT: `a form has at most ${BODY_LIMITS.multipart.fields} fields`,
  LIMIT_FILE_COUNT: `a form has at most ${BODY_LIMITS.multipart.files} parts with a filename`,
  LIMIT_PART_COUNT: `a form has at most ${BODY_LIMITS.multipart.parts} parts`,
};

function fromMulter(error: MulterError): LensError {
  const limit = MULTIPART_LIMIT_OF[error.code];
  const field = error.field ? ` (${error.field.slice(0, 64)})` : '';
  if (limit) return new LensError('PAYLOAD_TOO_LARGE', `multipart form refused${field}: ${limit}`);
  return new LensError('INVALID_PARAMETER_VALUE', `multipart form refused${field}: ${error.message}`);
}

// ---- body-parser (JSON, urlencoded): http-errors with a `type` saying what went wrong.

interface BodyParserError extends Error {
  type: string;
  status: number;
  charset?: string;
  encoding?: string;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  const e = error as Partial<BodyParserError> | undefined;
  return error instanceof Error && typeof e?.type === 'string' && typeof e.status === 'number' && e.status >= 400 && e.status < 500;
}

function fromBodyParser(error: BodyParserError): ClientError | undefined {
  switch (error.type) {
    case 'entity.too.large':
      return as(new LensError('PAYLOAD_TOO_LARGE', `the request body is larger than ${BODY_LIMITS.parsedBodyBytes} bytes, the most a JSON or urlencoded body may have`));
    case 'parameters.too.many':
      return as(new LensError('PAYLOAD_TOO_LARGE', 'the urlencoded body has too many fields'));
    case 'charset.unsupported':
      return as(new LensError('UNSUPPORTED_MEDIA_TYPE', `the body's charset ${JSON.stringify(String(error.charset).slice(0, 32))} is not supported; send utf-8`));
    case 'encoding.unsupported':
      return as(new LensError('UNSUPPORTED_MEDIA_TYPE', `the body's content encoding ${JSON.stringify(String(error.encoding).slice(0, 32))} is not supported`));
    case 'entity.parse.failed':
      return as(new LensError('INVALID_PARAMETER_VALUE', `the body cannot be read: ${error.message}`));
    default:
      return fromStatus(error.status, error.message);
  }
}
