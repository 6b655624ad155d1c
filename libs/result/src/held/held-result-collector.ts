import type { ColumnMeta, RowSink } from '@quarry/drivers';

/** Per row: the array and its slots; per value: a rough size of what V8 keeps for it. */
const ROW_OVERHEAD = 32;
const SLOT = 8;

/** Roughly the memory one row holds: enough to enforce a limit, cheap enough for every row. */
export function estimateRowBytes(row: unknown[]): number {
  let bytes = ROW_OVERHEAD;
  for (const value of row) {
    bytes += SLOT;
    if (typeof value === 'string') bytes += 16 + value.length * 2;
    else if (value !== null && typeof value === 'object') bytes += 16 + JSON.stringify(value).length * 2;
  }
  return bytes;
}

/**
 * Gathers a result in memory while it fits: at most `maxBytes` for this result, and only what the
 * node's budget grants. Past either, `overflowed` is set and the rows offered are not taken; the
 * caller then fails the query or moves the rows to the result store.
 */
export class HeldResultCollector implements RowSink {
  columnsSeen: ColumnMeta[] = [];
  readonly collected: unknown[][] = [];
  bytes = 0;
  overflowed?: 'result' | 'node';

  constructor(
    readonly maxBytes: number,
    private readonly reserve: (bytes: number) => boolean,
  ) {}

  columns(columns: ColumnMeta[]): void {
    this.columnsSeen = columns;
  }

  /** Takes the batch, or takes none of it and says why. */
  rows(batch: unknown[][]): void {
    let size = 0;
    for (const row of batch) size += estimateRowBytes(row);
    if (this.bytes + size > this.maxBytes) this.overflowed = 'result';
    else if (!this.reserve(size)) this.overflowed = 'node';
    if (this.overflowed) throw new ResultTooLarge(this.overflowed, this.maxBytes);
    this.bytes += size;
    for (const row of batch) this.collected.push(row);
  }
}

export class ResultTooLarge extends Error {
  constructor(
    readonly limit: 'result' | 'node',
    maxBytes: number,
  ) {
    super(
      limit === 'result'
        ? `the result is larger than the ${mib(maxBytes)} an in-memory result may hold (QUARRY_RESULT_MEMORY_MAX_BYTES); ` +
            'ask for a persisted result (lens.query.enable.persistent.resultset=true) or narrow the query'
        : 'this node has no memory left for another in-memory result (QUARRY_RESULT_MEMORY_TOTAL_BYTES); ' +
            'ask for a persisted result (lens.query.enable.persistent.resultset=true) or fetch and delete earlier results',
    );
    this.name = 'ResultTooLarge';
  }
}

function mib(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
}
