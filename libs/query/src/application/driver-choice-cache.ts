import { createHash } from 'node:crypto';
import type { CostEstimate } from '@quarry/drivers';
import { BoundedCache } from '@quarry/platform';

/** What decides which driver a query runs on when none is named. */
export interface ChoiceInputs {
  sql: string;
  database: string;
  user?: string;
  /** A session's init scripts can change what a driver can plan (DuckDB macros, pg settings). */
  resourcesVersion: string;
  /** The drivers compared, in order (ties go to the earlier one). */
  drivers: readonly string[];
}

export interface CachedChoice {
  driver: string;
  estimate: CostEstimate;
}

export interface DriverChoiceCacheOptions {
  /** How long a choice is reused from when it was made; 0 turns the cache off. */
  ttlMs: number;
  /** The most choices kept; past it the least recently used goes. */
  maxEntries: number;
  now?: () => number;
}

interface Entry {
  choice: CachedChoice;
  expiresAt: number;
}

/**
 * Recent driver choices, so a query sent again (dashboards re-send the same ones) is not planned
 * on every driver again: one EXPLAIN per driver per submit otherwise. Bounded in count and kept
 * in memory by a digest of the inputs, so a long query text is not held; a choice is reused only
 * until `ttlMs` after it was made, so a changed warehouse (a table dropped, statistics moved) is
 * seen again soon.
 */
export class DriverChoiceCache {
  /** By digest, least recently used first. */
  private readonly entries: BoundedCache<string, Entry>;
  private readonly now: () => number;

  constructor(private readonly options: DriverChoiceCacheOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) throw new Error(`maxEntries must be a positive integer, not ${options.maxEntries}`);
    this.entries = new BoundedCache(options.maxEntries);
    this.now = options.now ?? Date.now;
  }

  get(inputs: ChoiceInputs): CachedChoice | undefined {
    if (this.options.ttlMs <= 0) return undefined;
    const key = digestOf(inputs);
    const entry = this.entries.use(key);
    if (!entry || entry.expiresAt > this.now()) return entry?.choice;
    this.entries.delete(key);
    return undefined;
  }

  remember(inputs: ChoiceInputs, choice: CachedChoice): void {
    if (this.options.ttlMs <= 0) return;
    this.entries.set(digestOf(inputs), { choice, expiresAt: this.now() + this.options.ttlMs });
  }

  get size(): number {
    return this.entries.size;
  }
}

function digestOf(inputs: ChoiceInputs): string {
  const parts = [inputs.sql, inputs.database, inputs.user ?? null, inputs.resourcesVersion, inputs.drivers];
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64');
}
