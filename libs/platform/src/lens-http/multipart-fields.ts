import { BadRequestException, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import type { Request, Response } from 'express';
import multer from 'multer';
import { BODY_LIMITS } from './body-limits';

const parse = multer({ storage: multer.memoryStorage(), limits: BODY_LIMITS.multipart }).any();

/** A form's fields, each as the client sent it (a repeated field is an array; see textField). */
export type FormFieldValues = Record<string, unknown>;

/**
 * Reads a form into `req.body` as plain strings, and answers it. Lens clients send multipart parts
 * such as `sessionid` or `conf` with or without a Content-Type and sometimes with a filename;
 * whichever, the part's text is the field's value. A JSON or urlencoded form (already parsed) is
 * read as it is, and no body at all as an empty form; any other body is 415.
 */
export async function readFormFields(req: Request, res: Response): Promise<FormFieldValues> {
  if (req.is('multipart/form-data')) {
    await new Promise<void>((resolve, reject) =>
      parse(req, res, (error: unknown) =>
        // multer's own errors name the limit (mapped in clientErrorOf); busboy's say the form is malformed.
        error ? reject(isMulterError(error) ? error : new BadRequestException(`multipart form refused: ${(error as Error).message}`)) : resolve(),
      ),
    );
    const body = (req.body ?? {}) as Record<string, string>;
    for (const file of (req.files as Express.Multer.File[] | undefined) ?? []) body[file.fieldname] = file.buffer.toString('utf8');
    req.body = body;
  } else if (!isForm(req.body)) {
    if (Array.isArray(req.body)) throw new LensError('INVALID_PARAMETER_VALUE', 'the form must be an object of fields, not a list');
    if (hasBody(req)) throw new LensError('UNSUPPORTED_MEDIA_TYPE', `send the fields as multipart/form-data, not ${describeType(req)}`);
    req.body = {};
  }
  return req.body as FormFieldValues;
}

/**
 * The handler's parameter that receives the form (readFormFields), read before the handler runs,
 * after the guards, as an interceptor would. A parameter rather than an interceptor: a route with
 * no interceptor keeps Nest's plain path, without an rxjs pipeline and AsyncResource binds per
 * request. A refusal goes to the exception filters like any error of the handler.
 */
export const FormFields = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const http = context.switchToHttp();
  return readFormFields(http.getRequest<Request>(), http.getResponse<Response>());
});

const isMulterError = (error: unknown) => error instanceof multer.MulterError;

const isForm = (body: unknown): body is Record<string, unknown> => typeof body === 'object' && body !== null && !Array.isArray(body);

/** As body-parser decides it: a length or a chunked body. */
const hasBody = (req: Request) => req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

const describeType = (req: Request) => (req.headers['content-type'] ? JSON.stringify(req.headers['content-type'].slice(0, 64)) : 'a body without a Content-Type');
