import { DatabaseError } from 'pg';
import { isConnectionLost, isDatabaseUnavailable } from './database-unavailable';

/** A server error as node-postgres builds it from PostgreSQL's ErrorResponse. */
function serverError(code: string, message: string): DatabaseError {
  const error = new DatabaseError(message, message.length, 'error');
  error.code = code;
  return error;
}

function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, syscall: 'connect' });
}

describe('isDatabaseUnavailable', () => {
  it.each([
    ['57P01 admin_shutdown (pg_terminate_backend)', serverError('57P01', 'terminating connection due to administrator command')],
    ['57P02 crash_shutdown', serverError('57P02', 'terminating connection because of crash of another server process')],
    ['57P03 cannot_connect_now', serverError('57P03', 'the database system is starting up')],
    ['08006 connection_failure', serverError('08006', 'connection failure')],
    ['08P01 protocol_violation (class 08)', serverError('08P01', 'protocol violation')],
    ['a refused connection', socketError('ECONNREFUSED')],
    ['a reset connection', socketError('ECONNRESET')],
    ['a socket timeout', socketError('ETIMEDOUT')],
    ['a write to a closed socket', socketError('EPIPE')],
    ['a refused connection on every address (AggregateError)', Object.assign(new AggregateError([socketError('ECONNREFUSED')], ''), { code: 'ECONNREFUSED' })],
    ['the server closing the connection', new Error('Connection terminated unexpectedly')],
    ['a client connect timing out', new Error('Connection terminated due to connection timeout')],
    ['no pooled connection free in time', new Error('timeout exceeded when trying to connect')],
    ['a statement on a client whose connection failed', new Error('Client has encountered a connection error and is not queryable')],
  ])('is true for %s', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('tells a connection that broke (worth a fresh one at once) from one that could not be had', () => {
    const lost = [serverError('57P01', 'terminating connection due to administrator command'), serverError('08006', 'connection failure'), socketError('ECONNRESET'), new Error('Connection terminated unexpectedly')];
    const unreachable = [socketError('ECONNREFUSED'), socketError('ETIMEDOUT'), new Error('timeout exceeded when trying to connect'), new Error('Connection terminated due to connection timeout')];
    expect(lost.map(isConnectionLost)).toEqual([true, true, true, true]);
    expect(unreachable.map(isConnectionLost)).toEqual([false, false, false, false]);
    expect(isConnectionLost(serverError('42601', 'syntax error'))).toBe(false);
  });

  it.each([
    ['a syntax error', serverError('42601', 'syntax error at or near "SELEC"')],
    ['a unique violation', serverError('23505', 'duplicate key value violates unique constraint "events_pkey"')],
    ['a serialization failure', serverError('40001', 'could not serialize access due to concurrent update')],
    ['a canceled statement (57014, same class as 57P01)', serverError('57014', 'canceling statement due to user request')],
    ['a code that only starts like class 08', { code: '0800', message: 'x' }],
    ['a plain error', new Error('something else broke')],
    ['a message that mentions a terminated connection further in', new Error('driver said: Connection terminated unexpectedly')],
    ['a failed fetch whose cause was refused (another node, not the database)', new TypeError('fetch failed', { cause: socketError('ECONNREFUSED') })],
    ['a numeric code', { code: 8006, message: 'x' }],
    ['undefined', undefined],
    ['null', null],
    ['a string', 'Connection terminated unexpectedly'],
  ])('is false for %s', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
    expect(isConnectionLost(error)).toBe(false);
  });
});
