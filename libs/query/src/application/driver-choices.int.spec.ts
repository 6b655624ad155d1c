import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbDriver, NoDriverCanRun, PgDriver, type Driver, type DriverSessionSpec } from '@quarry/drivers';
import { loadConfig, QuarryMetrics } from '@quarry/platform';
import { createTestWarehouse, type TestWarehouse } from '@quarry/testing';
import { Client } from 'pg';
import { DriverChoices } from './driver-choices';

/** A real driver with each estimate (one EXPLAIN on its engine) counted. */
function counted(driver: Driver): { driver: Driver; plans: () => number } {
  let plans = 0;
  const wrapper: Driver = {
    name: driver.name,
    unsupportedResources: (spec) => driver.unsupportedResources(spec),
    explain: (spec, sql) => driver.explain(spec, sql),
    estimate: (spec, sql) => {
      plans++;
      return driver.estimate(spec, sql);
    },
    execute: (spec, sql, sink) => driver.execute(spec, sql, sink),
    close: () => driver.close(),
  };
  return { driver: wrapper, plans: () => plans };
}

const session = (over: Partial<DriverSessionSpec> = {}): DriverSessionSpec => ({
  sessionId: 'dashboard',
  user: 'ana',
  resourcesVersion: 'v1',
  database: 'default',
  resources: [],
  ...over,
});

describe('the driver chosen on submit (real PostgreSQL and DuckDB)', () => {
  let db: TestWarehouse;
  let dir: string;
  let pg: PgDriver;
  let duckdb: DuckDbDriver;
  /** EXPLAINs the pg driver sent to PostgreSQL. */
  let statements: jest.SpyInstance;
  const pgExplains = () => statements.mock.calls.filter(([q]) => String(typeof q === 'string' ? q : q.text).startsWith('EXPLAIN')).length;

  const choicesWith = (ttlMs: number) => {
    const [countedPg, countedDuckDb] = [counted(pg), counted(duckdb)];
    const metrics = new QuarryMetrics();
    const choices = new DriverChoices([countedPg.driver, countedDuckDb.driver], loadConfig({ QUARRY_DRIVER_CHOICE_TTL_MS: String(ttlMs) }), metrics);
    const plans = () => ({ pg: countedPg.plans(), duckdb: countedDuckDb.plans(), pgExplains: pgExplains() });
    const how = async () => Object.fromEntries((await metrics.driverChoices.get()).values.map((v) => [v.labels.how, v.value]));
    return { choices, plans, how };
  };

  beforeAll(async () => {
    db = await createTestWarehouse();
    await db.pool.query(`CREATE TABLE sales (id int, amount numeric); GRANT SELECT ON sales TO ${db.readerRole}`);
    dir = mkdtempSync(join(tmpdir(), 'quarry-choices-'));
    writeFileSync(join(dir, 'regions.csv'), 'code,name\nemea,Europe\n');
    pg = new PgDriver('pg', { warehouseUrl: db.readerUrl });
    duckdb = new DuckDbDriver('duckdb', { warehouseDir: dir });
  });
  afterAll(async () => {
    await pg?.close();
    await duckdb?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => (statements = jest.spyOn(Client.prototype, 'query')));
  afterEach(() => statements.mockRestore());

  it('plans a query sent again only once: the second submit sends no EXPLAIN to either engine', async () => {
    const { choices, plans, how } = choicesWith(30_000);
    const first = await choices.forSubmit(session(), 'SELECT sum(amount) FROM sales');
    expect(plans()).toEqual({ pg: 1, duckdb: 1, pgExplains: 1 });
    for (let i = 0; i < 5; i++) {
      const again = await choices.forSubmit(session({ sessionId: `panel-${i}` }), 'SELECT sum(amount) FROM sales');
      expect([again.driver.name, again.estimate]).toEqual(['pg', first.estimate]);
    }
    expect(plans()).toEqual({ pg: 1, duckdb: 1, pgExplains: 1 });
    expect((await choices.forSubmit(session(), "SELECT * FROM 'regions.csv'")).driver.name).toBe('duckdb');
    expect((await choices.forSubmit(session(), "SELECT * FROM 'regions.csv'")).driver.name).toBe('duckdb');
    expect(plans()).toEqual({ pg: 2, duckdb: 2, pgExplains: 2 });
    expect(await how()).toEqual({ planned: 2, cached: 6 });
  });

  it('plans again for another user, database or set of resources', async () => {
    const { choices, plans } = choicesWith(30_000);
    const sql = 'SELECT count(*) FROM sales';
    for (const spec of [session(), session({ user: 'bo' }), session({ database: 'other' }), session({ resourcesVersion: 'v2' }), session()]) await choices.forSubmit(spec, sql);
    expect(plans()).toEqual({ pg: 4, duckdb: 4, pgExplains: 4 });
  });

  it('never remembers a query no driver can plan, and plans every time with a named driver or a TTL of 0', async () => {
    const { choices, plans, how } = choicesWith(30_000);
    for (let i = 0; i < 2; i++) await expect(choices.forSubmit(session(), 'SELECT * FROM nowhere')).rejects.toBeInstanceOf(NoDriverCanRun);
    for (let i = 0; i < 2; i++) expect((await choices.forSubmit(session(), 'SELECT 1', 'duckdb')).driver.name).toBe('duckdb');
    expect(plans()).toEqual({ pg: 2, duckdb: 4, pgExplains: 2 });
    expect(await how()).toEqual({ named: 2 });

    const uncached = choicesWith(0);
    for (let i = 0; i < 3; i++) await uncached.choices.forSubmit(session(), 'SELECT 1');
    expect(uncached.plans()).toEqual({ pg: 3, duckdb: 3, pgExplains: 5 });
  });
});
