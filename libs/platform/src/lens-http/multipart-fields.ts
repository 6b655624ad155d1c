import { BadRequestException, type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import multer from 'multer';
import type { Observable } from 'rxjs';

/** Lens clients send small text parts; anything larger than this is refused, never buffered. */
export const MULTIPART_LIMITS = { fields: 64, files: 16, fieldSize: 256 * 1024, fileSize: 256 * 1024, parts: 80 };

const parse = multer({ storage: multer.memoryStorage(), limits: MULTIPART_LIMITS }).any();

/**
 * Reads a multipart form into `req.body` as plain strings. Lens clients send parts such as
 * `sessionid` or `conf` with or without a Content-Type and sometimes with a filename; whichever,
 * the part's text is the field's value.
 */
@Injectable()
export class MultipartFields implements NestInterceptor {
  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    if (req.is('multipart/form-data')) {
      await new Promise<void>((resolve, reject) =>
        parse(req, http.getResponse<Response>(), (error: unknown) =>
          error ? reject(new BadRequestException(`multipart form refused: ${(error as Error).message}`)) : resolve(),
        ),
      );
      const body = (req.body ?? {}) as Record<string, string>;
      for (const file of (req.files as Express.Multer.File[] | undefined) ?? []) body[file.fieldname] = file.buffer.toString('utf8');
      req.body = body;
    }
    return next.handle();
  }
}
