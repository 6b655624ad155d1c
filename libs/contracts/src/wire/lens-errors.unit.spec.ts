import { LENS_ERRORS, LensError, lensErrorNameOf, unsupportedOperation } from './lens-errors';
import { serialize } from './serialize';

describe('LENS_ERRORS', () => {
  it('carries the codes and statuses Lens clients see', () => {
    const table = Object.fromEntries(Object.values(LENS_ERRORS).map((e) => [e.code, e.httpStatus]));
    expect(table).toMatchObject({
      2001: 400,
      2002: 400,
      2003: 400,
      2004: 429,
      2005: 410,
      2006: 400,
      2007: 400,
      2008: 500,
      1001: 500,
      1002: 400,
      1003: 404,
      1005: 400,
      1006: 400,
      9001: 401,
      9004: 503,
      9005: 503,
    });
  });

  it('has one entry per code', () => {
    const codes = Object.values(LENS_ERRORS).map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('finds a name by code', () => {
    expect(lensErrorNameOf(2005)).toBe('SESSION_CLOSED');
    expect(lensErrorNameOf(4242)).toBeUndefined();
  });
});

describe('LensError', () => {
  it('takes code, status and a default message from the table', () => {
    const e = new LensError('SESSION_CLOSED');
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: 'LensError', errorName: 'SESSION_CLOSED', code: 2005, httpStatus: 410 });
    expect(e.message).toBe(LENS_ERRORS.SESSION_CLOSED.message);
  });

  it('keeps a given message and cause', () => {
    const cause = new Error('db down');
    const e = new LensError('SERVER_OVERLOADED', 'queue full', { cause });
    expect(e.message).toBe('queue full');
    expect(e.cause).toBe(cause);
  });

  it('renders as a FAILED APIResult for endpoints that answer APIResult', () => {
    const e = new LensError('SESSION_ID_NOT_PROVIDED', 'session id is missing');
    expect(e.toApiResult()).toEqual({ status: 'FAILED', message: 'session id is missing' });
    expect(serialize({ kind: 'apiResult', value: e.toApiResult() }, 'application/json')).toBe(
      '{"apiResult":{"status":"FAILED","message":"session id is missing"}}',
    );
  });

  it('renders as a LensAPIResult error without a stack trace', () => {
    const e = new LensError('NULL_OR_EMPTY_OR_BLANK_QUERY');
    expect(e.toLensAPIResult('req-7')).toEqual({ id: 'req-7', error: { code: 2002, message: LENS_ERRORS.NULL_OR_EMPTY_OR_BLANK_QUERY.message } });
    expect(e.toErrorTO()).not.toHaveProperty('stackTrace');
    expect(e.toErrorTO()).not.toHaveProperty('payload');
  });

  it('builds 2003 with the supported operations as payload, lower-cased as Lens sent them', () => {
    const e = unsupportedOperation(['EXECUTE', 'EXECUTE_WITH_TIMEOUT', 'EXPLAIN', 'ESTIMATE']);
    expect(e.code).toBe(2003);
    expect(e.httpStatus).toBe(400);
    expect(e.message).toContain('execute, execute_with_timeout, explain, estimate');
    const json = JSON.parse(serialize({ kind: 'lensAPIResult', value: e.toLensAPIResult('r') }, 'application/json'));
    expect(json.lensAPIResult.error.payload).toEqual({
      type: 'supportedOperations',
      supportedOperations: ['execute', 'execute_with_timeout', 'explain', 'estimate'],
    });
    // lens-ui's ErrorParser reads lensAPIResult.error
    expect(json.lensAPIResult.error.code).toBe(2003);
  });
});
