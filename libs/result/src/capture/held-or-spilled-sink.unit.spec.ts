import type { ColumnMeta, RowSink } from '@quarry/drivers';
import type { QuarryConfig } from '@quarry/platform';
import { ResultTooLarge } from '../held/held-result-collector';
import { HeldResults } from '../held/held-results';
import type { CsvResultSink } from '../store/csv-result-sink';
import { HeldOrSpilledSink } from './held-or-spilled-sink';

class RecordingSink implements RowSink {
  columnsSeen: ColumnMeta[] = [];
  readonly rowsSeen: unknown[][] = [];
  columns(columns: ColumnMeta[]): void {
    this.columnsSeen = columns;
  }
  rows(batch: unknown[][]): void {
    this.rowsSeen.push(...batch);
  }
}

const rows = (n: number, from = 0) => Array.from({ length: n }, (_, i) => [from + i]);
const heldWith = (heldMaxBytes: number) => new HeldResults({ results: { heldMaxBytes, heldTotalBytes: 1_000_000 } } as QuarryConfig);

describe('HeldOrSpilledSink', () => {
  it('keeps rows in memory while they fit', async () => {
    const held = heldWith(100_000);
    const collector = held.collector();
    const sink = new HeldOrSpilledSink(collector, undefined, () => held.release(collector));
    sink.columns([{ name: 'n', type: 'INT' }]);
    await sink.rows(rows(10));
    expect([collector.collected, sink.spilled]).toEqual([rows(10), undefined]);
  });

  it('without a spill, fails on the batch that does not fit', async () => {
    const held = heldWith(500);
    const collector = held.collector();
    const sink = new HeldOrSpilledSink(collector, undefined, () => held.release(collector));
    await expect(sink.rows(rows(100))).rejects.toBeInstanceOf(ResultTooLarge);
  });

  it('with a spill, moves what it gathered and every later batch to the store, in order, and frees the memory', async () => {
    const held = heldWith(2_000);
    const collector = held.collector();
    const store = new RecordingSink();
    const sink = new HeldOrSpilledSink(collector, async () => store as unknown as CsvResultSink, () => held.release(collector));
    sink.columns([{ name: 'n', type: 'INT' }]);
    await sink.rows(rows(30));
    await sink.rows(rows(30, 30));
    await sink.rows(rows(2000, 60));
    await sink.rows(rows(5, 2060));
    expect(store.columnsSeen).toEqual([{ name: 'n', type: 'INT' }]);
    expect(store.rowsSeen).toEqual(rows(2065));
    expect([collector.collected.length, held.bytesUsed]).toEqual([0, 0]);
  });
});
