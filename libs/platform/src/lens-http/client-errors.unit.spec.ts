import { BadRequestException, InternalServerErrorException, NotFoundException } from '@nestjs/common';
import { LensError } from '@quarry/contracts';
import multer from 'multer';
import { z } from 'zod';
import { clientErrorOf } from './client-errors';

/** What body-parser passes on (an http-errors error): a `type` saying what went wrong, and a 4xx. */
const bodyParserError = (type: string, status: number, extra: Record<string, unknown> = {}) => Object.assign(new Error(type), { type, status, expose: true, ...extra });

const summary = (error: unknown) => {
  const mapped = clientErrorOf(error);
  return mapped && { status: mapped.status, code: mapped.error.code, message: mapped.error.message };
};

describe('clientErrorOf', () => {
  it('names the field and the limit a zod schema refused', () => {
    const refused = (() => {
      try {
        z.object({ userName: z.string().max(256) }).parse({ userName: 'x'.repeat(300) });
      } catch (error) {
        return error;
      }
    })();
    expect(summary(refused)).toEqual({ status: 400, code: 1006, message: 'userName is too long: at most 256 characters' });
  });

  it('answers a body over the limit 413, an unsupported charset or encoding 415, an unreadable body 400', () => {
    expect(summary(bodyParserError('entity.too.large', 413))).toEqual({ status: 413, code: 9006, message: expect.stringContaining('102400 bytes') });
    expect(summary(bodyParserError('parameters.too.many', 413))?.status).toBe(413);
    expect(summary(bodyParserError('charset.unsupported', 415, { charset: 'klingon' }))).toEqual({ status: 415, code: 9007, message: expect.stringContaining('"klingon"') });
    expect(summary(bodyParserError('encoding.unsupported', 415, { encoding: 'br' }))?.code).toBe(9007);
    expect(summary(bodyParserError('entity.parse.failed', 400))).toEqual({ status: 400, code: 1006, message: expect.stringContaining('cannot be read') });
    expect(summary(bodyParserError('request.aborted', 400))).toEqual({ status: 400, code: 1006, message: 'request.aborted' });
  });

  it('answers multer limits 413 naming the limit and the field, other multer refusals 400', () => {
    expect(summary(new multer.MulterError('LIMIT_FIELD_VALUE', 'query'))).toEqual({
      status: 413,
      code: 9006,
      message: 'multipart form refused (query): a form field has at most 262144 bytes',
    });
    expect(summary(new multer.MulterError('LIMIT_PART_COUNT'))?.message).toContain('at most 80 parts');
    expect(summary(new multer.MulterError('LIMIT_UNEXPECTED_FILE', 'x'))).toEqual({ status: 400, code: 1006, message: expect.stringContaining('(x)') });
  });

  it('keeps Lens errors and the 4xx of Nest exceptions; leaves everything else to the 500 path', () => {
    expect(summary(new LensError('SESSION_CLOSED'))).toMatchObject({ status: 410, code: 2005 });
    expect(summary(new NotFoundException('Cannot GET /x'))).toEqual({ status: 404, code: 1003, message: 'Cannot GET /x' });
    expect(summary(new BadRequestException('bad'))).toEqual({ status: 400, code: 1006, message: 'bad' });
    expect(clientErrorOf(new InternalServerErrorException('boom'))).toBeUndefined();
    expect(clientErrorOf(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBeUndefined();
    expect(clientErrorOf(Object.assign(new Error('server side'), { type: 'x', status: 500 }))).toBeUndefined();
  });
});
