import type { ColumnMeta, RowSink } from '@quarry/drivers';
import { ResultTooLarge, type HeldResultCollector } from '../held/held-result-collector';
import type { CsvResultSink } from '../store/csv-result-sink';

/** Rows per write when moving what was gathered, so no single chunk is the whole result. */
const SPILL_BATCH = 1000;

/**
 * Rows go to memory while they fit; past the limit they either fail the query (the collector's
 * ResultTooLarge) or, when a spill is offered, move to the result store: what was gathered first,
 * then every later batch, so the result is complete either way.
 */
export class HeldOrSpilledSink implements RowSink {
  spilled?: CsvResultSink;

  constructor(
    private readonly collector: HeldResultCollector,
    private readonly spill: (() => Promise<CsvResultSink>) | undefined,
    private readonly releaseHeld: () => void,
  ) {}

  columns(columns: ColumnMeta[]): void {
    this.collector.columns(columns);
  }

  async rows(batch: unknown[][]): Promise<void> {
    if (this.spilled) return this.spilled.rows(batch);
    try {
      this.collector.rows(batch);
    } catch (error) {
      if (!(error instanceof ResultTooLarge) || !this.spill) throw error;
      const sink = await this.spill();
      this.spilled = sink;
      await sink.columns(this.collector.columnsSeen);
      const gathered = this.collector.collected.splice(0);
      for (let i = 0; i < gathered.length; i += SPILL_BATCH) await sink.rows(gathered.slice(i, i + SPILL_BATCH));
      this.releaseHeld();
      await sink.rows(batch);
    }
  }
}
