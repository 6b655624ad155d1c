import { Inject, Injectable } from '@nestjs/common';
import type { ColumnMeta } from '@quarry/drivers';
import { QUARRY_CONFIG, type QuarryConfig } from '@quarry/platform';
import { HeldResultCollector } from './held-result-collector';

export interface ResultPage {
  columns: ColumnMeta[];
  rows: unknown[][];
  rowCount: number;
}

interface HeldEntry {
  attempt: number;
  columns: ColumnMeta[];
  rows: unknown[][];
  bytes: number;
  expiresAt: number;
}

/**
 * The in-memory results this node holds for the queries it ran, within one budget for the whole
 * node (QUARRY_RESULT_MEMORY_TOTAL_BYTES): a collector reserves memory as rows arrive, and what
 * is dropped gives it back.
 */
@Injectable()
export class HeldResults {
  private readonly entries = new Map<string, HeldEntry>();
  private used = 0;
  private readonly keptListeners: (() => void)[] = [];

  constructor(@Inject(QUARRY_CONFIG) private readonly config: QuarryConfig) {}

  get bytesUsed(): number {
    return this.used;
  }

  get count(): number {
    return this.entries.size;
  }

  /** A sink that gathers rows while they fit in one result's limit and in what the node has left. */
  collector(): HeldResultCollector {
    return new HeldResultCollector(this.config.results.heldMaxBytes, (bytes) => this.reserve(bytes));
  }

  /** Keeps what a collector gathered (its memory is already counted) until the TTL. */
  keep(queryHandle: string, attempt: number, collector: HeldResultCollector, expiresAt: number): void {
    this.drop(queryHandle);
    this.entries.set(queryHandle, { attempt, columns: collector.columnsSeen, rows: collector.collected, bytes: collector.bytes, expiresAt });
    for (const listener of this.keptListeners) listener();
  }

  /** Told whenever a result is kept (the keeper's passes run only while something is held). */
  onKept(listener: () => void): void {
    this.keptListeners.push(listener);
  }

  /** Gives back the memory of a collector whose rows are not kept (failed, canceled, spilled). */
  release(collector: HeldResultCollector): void {
    this.used -= collector.bytes;
    collector.bytes = 0;
  }

  /** Rows `from` (0-based) on, at most `size` of them, in order; undefined when not held here. */
  page(queryHandle: string, from: number, size: number): ResultPage | undefined {
    const entry = this.entries.get(queryHandle);
    if (!entry) return undefined;
    return { columns: entry.columns, rows: entry.rows.slice(from, from + size), rowCount: entry.rows.length };
  }

  has(queryHandle: string): boolean {
    return this.entries.has(queryHandle);
  }

  drop(queryHandle: string): void {
    const entry = this.entries.get(queryHandle);
    if (!entry) return;
    this.entries.delete(queryHandle);
    this.used -= entry.bytes;
  }

  /** What is held, with its attempt and expiry, for the keeper's pass. */
  held(): { queryHandle: string; attempt: number; expiresAt: number }[] {
    return [...this.entries].map(([queryHandle, e]) => ({ queryHandle, attempt: e.attempt, expiresAt: e.expiresAt }));
  }

  private reserve(bytes: number): boolean {
    if (this.used + bytes > this.config.results.heldTotalBytes) return false;
    this.used += bytes;
    return true;
  }
}
