import { DriverChoiceCache, type ChoiceInputs } from './driver-choice-cache';

const inputs = (over: Partial<ChoiceInputs> = {}): ChoiceInputs => ({
  sql: 'SELECT 1',
  database: 'default',
  user: 'ana',
  resourcesVersion: 'v1',
  drivers: ['pg', 'duckdb'],
  ...over,
});
const pg = { driver: 'pg', estimate: { cost: 0.01, costType: 'VERY_LOW' as const } };
const duckdb = { driver: 'duckdb', estimate: { cost: 12, costType: 'VERY_LOW' as const } };

function cacheAt(options: { ttlMs?: number; maxEntries?: number } = {}) {
  const clock = { now: 1_000 };
  const cache = new DriverChoiceCache({ ttlMs: options.ttlMs ?? 30_000, maxEntries: options.maxEntries ?? 100, now: () => clock.now });
  return { cache, clock };
}

describe('DriverChoiceCache', () => {
  it('gives back a choice for the same inputs, and none for inputs never seen', () => {
    const { cache } = cacheAt();
    expect(cache.get(inputs())).toBeUndefined();
    cache.remember(inputs(), pg);
    expect(cache.get(inputs())).toEqual(pg);
    expect(cache.get({ ...inputs(), drivers: [...inputs().drivers] })).toEqual(pg);
  });

  it.each<[string, Partial<ChoiceInputs>]>([
    ['query text', { sql: 'SELECT 2' }],
    ['query text by a space', { sql: 'SELECT  1' }],
    ['database', { database: 'sales' }],
    ['user', { user: 'bo' }],
    ['no user', { user: undefined }],
    ['resources', { resourcesVersion: 'v2' }],
    ['drivers', { drivers: ['pg'] }],
    ['order of drivers', { drivers: ['duckdb', 'pg'] }],
  ])('keeps choices apart by %s', (_, change) => {
    const { cache } = cacheAt();
    cache.remember(inputs(), pg);
    expect(cache.get(inputs(change))).toBeUndefined();
    cache.remember(inputs(change), duckdb);
    expect([cache.get(inputs()), cache.get(inputs(change))]).toEqual([pg, duckdb]);
  });

  it('does not mistake one field for another (no separator games)', () => {
    const { cache } = cacheAt();
    cache.remember(inputs({ sql: 'SELECT 1', database: 'x' }), pg);
    expect(cache.get(inputs({ sql: 'SELECT 1","x', database: '' }))).toBeUndefined();
  });

  it('forgets a choice ttlMs after it was made, however often it was used', () => {
    const { cache, clock } = cacheAt({ ttlMs: 30_000 });
    cache.remember(inputs(), pg);
    clock.now += 29_999;
    expect(cache.get(inputs())).toEqual(pg);
    clock.now += 1;
    expect(cache.get(inputs())).toBeUndefined();
    expect(cache.size).toBe(0);
    // Remembered again, it counts from then.
    cache.remember(inputs(), duckdb);
    clock.now += 29_999;
    expect(cache.get(inputs())).toEqual(duckdb);
  });

  it('keeps at most maxEntries, dropping the least recently used', () => {
    const { cache } = cacheAt({ maxEntries: 2 });
    cache.remember(inputs({ sql: 'a' }), pg);
    cache.remember(inputs({ sql: 'b' }), pg);
    expect(cache.get(inputs({ sql: 'a' }))).toEqual(pg);
    cache.remember(inputs({ sql: 'c' }), duckdb);
    expect(cache.size).toBe(2);
    expect([cache.get(inputs({ sql: 'a' })), cache.get(inputs({ sql: 'b' })), cache.get(inputs({ sql: 'c' }))]).toEqual([pg, undefined, duckdb]);
  });

  it('keeps nothing with ttlMs 0', () => {
    const { cache } = cacheAt({ ttlMs: 0 });
    cache.remember(inputs(), pg);
    expect([cache.get(inputs()), cache.size]).toEqual([undefined, 0]);
  });
});
