import type { QuarryConfig } from '@quarry/platform';
import { estimateRowBytes, ResultTooLarge } from './held-result-collector';
import { HeldResults } from './held-results';

const configWith = (heldMaxBytes: number, heldTotalBytes: number) => ({ results: { heldMaxBytes, heldTotalBytes } }) as QuarryConfig;
const rows = (n: number, from = 0) => Array.from({ length: n }, (_, i) => [from + i, `row ${from + i}`]);

describe('HeldResults (the node memory budget for in-memory results)', () => {
  const rowBytes = estimateRowBytes([0, 'row 0']);

  it('estimates a row by its values: strings by length, numbers and nulls by slot', () => {
    expect(estimateRowBytes([])).toBeLessThan(estimateRowBytes([1]));
    expect(estimateRowBytes(['x'.repeat(1000)]) - estimateRowBytes([''])).toBe(2000);
    expect(estimateRowBytes([null, 1, true])).toBe(estimateRowBytes([2, 3, false]));
  });

  it('keeps what a collector gathered and pages it exactly; dropping gives the memory back', () => {
    const held = new HeldResults(configWith(1_000_000, 10_000_000));
    const collector = held.collector();
    collector.columns([{ name: 'n', type: 'INT' }, { name: 'label', type: 'STRING' }]);
    collector.rows(rows(50));
    collector.rows(rows(50, 50));
    held.keep('q1', 1, collector, Date.now() + 1000);
    expect(held.page('q1', 95, 10)).toEqual({ columns: collector.columnsSeen, rows: rows(5, 95), rowCount: 100 });
    expect(held.page('q1', 100, 10)?.rows).toEqual([]);
    expect(held.page('q2', 0, 10)).toBeUndefined();
    expect(held.bytesUsed).toBeGreaterThanOrEqual(100 * rowBytes - 100);
    held.drop('q1');
    expect([held.bytesUsed, held.count, held.has('q1')]).toEqual([0, 0, false]);
  });

  it('refuses a batch past one result limit, taking none of it, and says which limit', () => {
    const held = new HeldResults(configWith(10 * rowBytes, 1_000_000));
    const collector = held.collector();
    collector.rows(rows(8));
    expect(() => collector.rows(rows(8, 8))).toThrow(ResultTooLarge);
    expect([collector.collected.length, collector.overflowed]).toEqual([8, 'result']);
    expect(() => held.collector().rows(rows(11))).toThrow('QUARRY_RESULT_MEMORY_MAX_BYTES');
  });

  it('shares one node budget between results; a released collector frees its share', () => {
    const held = new HeldResults(configWith(10 * rowBytes, 15 * rowBytes));
    const first = held.collector();
    first.rows(rows(10));
    const second = held.collector();
    expect(() => second.rows(rows(10))).toThrow('QUARRY_RESULT_MEMORY_TOTAL_BYTES');
    expect(second.overflowed).toBe('node');
    held.release(first);
    expect(held.bytesUsed).toBe(0);
    const third = held.collector();
    third.rows(rows(10));
    expect(third.collected).toHaveLength(10);
  });

  it('lists what it holds with attempt and expiry, for the keeper', () => {
    const held = new HeldResults(configWith(1_000_000, 1_000_000));
    held.keep('q1', 2, held.collector(), 1234);
    expect(held.held()).toEqual([{ queryHandle: 'q1', attempt: 2, expiresAt: 1234 }]);
  });
});
