import { DEFAULT_RESULT_LIMITS } from '../result-limits';
import { rowsPerFetch } from './fetch-size';

describe('rowsPerFetch', () => {
  it('fits the rows in the budget as if each were as long as told, from one row to fetchRows', () => {
    const { maxBatchBytes, maxRowBytes } = DEFAULT_RESULT_LIMITS;
    // The first FETCH at the default limits: two rows at the row limit, so a one-row result ends in one FETCH.
    expect(rowsPerFetch(maxBatchBytes, maxRowBytes, 1000)).toBe(2);
    expect(rowsPerFetch(maxBatchBytes, 100, 1000)).toBe(1000);
    expect(rowsPerFetch(4096, 1000, 1000)).toBe(4);
    expect(rowsPerFetch(4096, 5000, 1000)).toBe(1);
    expect(rowsPerFetch(4096, 0, 10)).toBe(10);
  });
});
