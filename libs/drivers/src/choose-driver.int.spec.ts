import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { REPO_ROOT, testEnv } from '@quarry/testing';
import { chooseDriver, NoDriverCanRun } from './choose-driver';
import { DriverQueryError } from './driver';
import { DuckDbDriver } from './duckdb/duckdb-driver';
import { PgDriver } from './pg/pg-driver';
import { rowsOf, sessionSpec } from './test-support/sessions';

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: testEnv().adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('chooseDriver over the seeded warehouse (real PostgreSQL and DuckDB)', () => {
  // The seed creates the database itself, so the name is only made up here.
  const database = `quarry_t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  // The seed creates the driver's reader role too (roles are the server's: dropped afterwards).
  const reader = `${database}_reader`;
  const warehouseUrl = Object.assign(new URL(testEnv().adminUrl), { username: reader, pathname: `/${database}` }).toString();
  let dir: string;
  let pg: PgDriver;
  let duckdb: DuckDbDriver;

  const seed = () =>
    execFileSync(process.execPath, [join(REPO_ROOT, 'tools/warehouse/seed.mjs')], {
      encoding: 'utf8',
      env: { ...process.env, QUARRY_PG_WAREHOUSE_URL: warehouseUrl, QUARRY_PG_ADMIN_URL: testEnv().adminUrl, QUARRY_DUCKDB_WAREHOUSE: dir },
    });

  beforeAll(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'quarry-warehouse-')), 'warehouse');
  });
  afterAll(async () => {
    await pg?.close();
    await duckdb?.close();
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin(`DROP ROLE IF EXISTS ${reader}`);
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('seeds both warehouses once: a second run changes nothing', async () => {
    expect(seed()).toContain(`pg: created database ${database}`);
    const again = seed();
    expect(again).toContain(`pg: database ${database} exists`);
    expect(again).toContain('sales +0 rows');
    expect(again).toContain('sales.parquet exists');
    expect(readdirSync(dir).sort()).toEqual(['regions.csv', 'sales.parquet']);

    pg = new PgDriver('pg', { warehouseUrl });
    expect(await pg.checkRole()).toMatchObject({ state: 'checked', role: { login: reader, privileges: '' } });
    duckdb = new DuckDbDriver('duckdb', { warehouseDir: dir });
    const totals = 'SELECT count(*), sum(amount), min(sold_at), max(sold_at)';
    const fromPg = await rowsOf(pg, sessionSpec('totals'), `${totals} FROM sales`);
    const fromFiles = await rowsOf(duckdb, sessionSpec('totals'), `${totals} FROM 'sales.parquet'`);
    expect(fromPg).toEqual(fromFiles);
    expect(fromPg[0][0]).toBe('1000');
  });

  it('picks pg for a pg table and duckdb for a Parquet file', async () => {
    const session = sessionSpec('choose');
    const forTable = await chooseDriver([pg, duckdb], session, 'SELECT region, sum(amount) FROM sales GROUP BY region');
    expect(forTable.driver.name).toBe('pg');
    const forFile = await chooseDriver([pg, duckdb], session, "SELECT * FROM 'sales.parquet'");
    expect(forFile.driver.name).toBe('duckdb');
    const joined = await chooseDriver([pg, duckdb], session, "SELECT r.name, count(*) FROM 'sales.parquet' s JOIN 'regions.csv' r ON r.code = s.region GROUP BY 1");
    expect(joined.driver.name).toBe('duckdb');
  });

  it('takes the explicitly named driver, and names the choices for an unknown one', async () => {
    const session = sessionSpec('choose');
    expect((await chooseDriver([pg, duckdb], session, 'SELECT 1', 'duckdb')).driver.name).toBe('duckdb');
    await expect(chooseDriver([pg, duckdb], session, 'SELECT 1', 'hive')).rejects.toThrow('unknown driver hive; available: pg, duckdb');
    await expect(chooseDriver([pg, duckdb], session, 'SELECT * FROM sales', 'duckdb')).rejects.toThrow(DriverQueryError);
  });

  it('says why each driver cannot run a query none can', async () => {
    const refusal = await chooseDriver([pg, duckdb], sessionSpec('choose'), 'SELECT * FROM nowhere').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(NoDriverCanRun);
    const { reasons } = refusal as NoDriverCanRun;
    expect(reasons.map((r) => r.driver)).toEqual(['pg', 'duckdb']);
    expect(reasons[0].message).toBe('relation "nowhere" does not exist');
    expect(reasons[1].message).toMatch(/Table with name nowhere does not exist/);
  });
});
