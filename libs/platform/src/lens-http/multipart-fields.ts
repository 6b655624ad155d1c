import { BadRequestException, type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import type { Request, Response } from 'express';
import multer from 'multer';
import type { Observable } from 'rxjs';
import { BODY_LIMITS } from './body-limits';

const parse = multer({ storage: multer.memoryStorage(), limits: BODY_LIMITS.multipart }).any();

/**
 * Reads a form into `req.body` as plain strings. Lens clients send multipart parts such as
 * `sessionid` or `conf` with or without a Content-Type and sometimes with a filename; whichever,
 * the part's text is the field's value. A JSON or urlencoded form (already parsed) is read as it
 * is, and no body at all as an empty form; any other body is 415.
 */
@Injectable()
export class MultipartFields implements NestInterceptor {
  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    if (req.is('multipart/form-data')) {
      await new Promise<void>((resolve, reject) =>
        parse(req, http.getResponse<Response>(), (error: unknown) =>
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
    return next.handle();
  }
}

const isMulterError = (error: unknown) => error instanceof multer.MulterError;

const isForm = (body: unknown): body is Record<string, unknown> => typeof body === 'object' && body !== null && !Array.isArray(body);

/** As body-parser decides it: a length or a chunked body. */
const hasBody = (req: Request) => req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

const describeType = (req: Request) => (req.headers['content-type'] ? JSON.stringify(req.headers['content-type'].slice(0, 64)) : 'a body without a Content-Type');
