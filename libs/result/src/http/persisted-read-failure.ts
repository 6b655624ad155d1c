import { LensError } from '@quarry/contracts';
import { UnreadableResult } from '../store/csv-page-reader';

/**
 * A persisted result that cannot be served, as the Lens error that says why: its file damaged
 * (410, the result is gone) or gone from the store (410), a row too long to answer as rows (400,
 * the download still works), the store unreadable right now (503, ask again). Anything else is a
 * fault of Quarry's and stays one.
 */
export function persistedReadFailure(queryHandle: string, error: unknown): unknown {
  if (error instanceof UnreadableResult) {
    return error.reason === 'corrupt'
      ? new LensError('RESULT_GONE', `the persisted result of ${queryHandle} cannot be read: ${error.message}`)
      : new LensError('INVALID_PARAMETER_VALUE', `the persisted result of ${queryHandle} cannot be read as rows: ${error.message}`);
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'ENOENT') return new LensError('RESULT_GONE', `the persisted result of ${queryHandle} is missing from the result store (QUARRY_RESULT_DIR)`);
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    return new LensError('RESULT_UNAVAILABLE', `the result store cannot be read right now (${code}); try again shortly`);
  }
  return error;
}
