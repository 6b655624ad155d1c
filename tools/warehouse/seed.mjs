// Seeds the demo warehouse the drivers query: a PostgreSQL database with `regions` and `sales`
// for the pg driver, and the same rows as `sales.parquet` and `regions.csv` in the DuckDB
// warehouse folder. Idempotent: a second run finds everything in place and changes nothing.
// The pg driver's login role (the warehouse URL's user) gets read access only: reader-role.sql.
//
//   node tools/warehouse/seed.mjs
//
// Environment (the same names the Quarry node reads):
//   QUARRY_PG_WAREHOUSE_URL  the warehouse database and the driver's role (default postgres://quarry_reader@127.0.0.1:5432/quarry_warehouse)
//   QUARRY_PG_ADMIN_URL      a database on that server to create it from, as a role that may create roles (default: same server, postgres@ and `postgres`)
//   QUARRY_DUCKDB_WAREHOUSE  the folder of files (default <repo>/.cache/warehouse)
import { DuckDBInstance, listValue } from '@duckdb/node-api';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withClient, withDatabase } from '../stack/postgres/databases.mjs';
import { grantReader } from './reader-role.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const REGIONS = [
  { code: 'emea', name: 'Europe, Middle East and Africa' },
  { code: 'amer', name: 'North America' },
  { code: 'apac', name: 'Asia Pacific' },
  { code: 'latam', name: 'Latin America' },
  { code: 'anz', name: 'Australia and New Zealand' },
];
const PRODUCTS = ['anvil', 'bolt', 'cable', 'drill', 'engine', 'filter', 'gear'];
export const SALES_ROWS = 1000;

/** The sales rows, computed (not random) so both warehouses hold exactly the same data. */
export function salesRows() {
  return Array.from({ length: SALES_ROWS }, (_, i) => {
    const id = i + 1;
    const cents = (id * 7919) % 100_000;
    const day = new Date(Date.UTC(2024, 0, 1 + ((id * 37) % 366)));
    return {
      id,
      region: REGIONS[id % REGIONS.length].code,
      product: PRODUCTS[id % PRODUCTS.length],
      amount: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
      soldAt: day.toISOString().slice(0, 10),
    };
  });
}

export const DEFAULT_WAREHOUSE_URL = 'postgres://quarry_reader@127.0.0.1:5432/quarry_warehouse';

/** `reader`: the pg driver's login role ({ role, password }), given read access to the tables only. */
export async function seedWarehouse({ pgAdminUrl, pgDatabase = 'quarry_warehouse', reader, duckdbDir, log = console.log }) {
  if (!/^[a-z_][a-z0-9_]*$/.test(pgDatabase)) throw new Error(`database name ${pgDatabase}: use lower-case letters, digits and _`);
  const rows = salesRows();
  await seedPostgres(pgAdminUrl, pgDatabase, rows, log);
  await grantReader(withDatabase(pgAdminUrl, pgDatabase), reader);
  log(`pg: role ${reader.role} may read the tables of ${pgDatabase}, nothing more`);
  await seedFiles(resolve(duckdbDir), rows, log);
}

async function seedPostgres(adminUrl, database, rows, log) {
  await withClient(adminUrl, async (admin) => {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount) return log(`pg: database ${database} exists`);
    try {
      await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(database)}`);
      log(`pg: created database ${database}`);
    } catch (error) {
      if (error.code !== '42P04') throw error; // created meanwhile by another run
      log(`pg: database ${database} exists`);
    }
  });
  await withClient(withDatabase(adminUrl, database), async (db) => {
    await db.query(`
      CREATE TABLE IF NOT EXISTS regions (code text PRIMARY KEY, name text NOT NULL);
      CREATE TABLE IF NOT EXISTS sales (
        id integer PRIMARY KEY,
        region text NOT NULL REFERENCES regions,
        product text NOT NULL,
        amount numeric(12, 2) NOT NULL,
        sold_at date NOT NULL
      )`);
    const regions = await db.query('INSERT INTO regions SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING', [
      REGIONS.map((r) => r.code),
      REGIONS.map((r) => r.name),
    ]);
    const sales = await db.query(
      `INSERT INTO sales SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::numeric[], $5::date[]) ON CONFLICT DO NOTHING`,
      [rows.map((r) => r.id), rows.map((r) => r.region), rows.map((r) => r.product), rows.map((r) => r.amount), rows.map((r) => r.soldAt)],
    );
    log(`pg: regions +${regions.rowCount}, sales +${sales.rowCount} rows (tables in ${database})`);
  });
}

async function seedFiles(dir, rows, log) {
  mkdirSync(dir, { recursive: true });
  await writeOnce(join(dir, 'regions.csv'), log, (path) =>
    writeFileSync(path, ['code,name', ...REGIONS.map((r) => `${r.code},"${r.name}"`)].join('\n') + '\n'),
  );
  await writeOnce(join(dir, 'sales.parquet'), log, async (path) => {
    const instance = await DuckDBInstance.create(':memory:');
    const duck = await instance.connect();
    try {
      await duck.run('CREATE TABLE sales (id INTEGER, region VARCHAR, product VARCHAR, amount DECIMAL(12, 2), sold_at DATE)');
      await duck.run(
        'INSERT INTO sales SELECT unnest($1::INTEGER[]), unnest($2::VARCHAR[]), unnest($3::VARCHAR[]), unnest($4::VARCHAR[])::DECIMAL(12, 2), unnest($5::VARCHAR[])::DATE',
        [listValue(rows.map((r) => r.id)), listValue(rows.map((r) => r.region)), listValue(rows.map((r) => r.product)), listValue(rows.map((r) => r.amount)), listValue(rows.map((r) => r.soldAt))],
      );
      await duck.run('COPY (SELECT * FROM sales ORDER BY id) TO $1 (FORMAT parquet)', [path]);
    } finally {
      duck.closeSync();
      instance.closeSync();
    }
  });
}

/** Writes beside the target, then renames: a reader never sees half a file, a rerun skips it. */
async function writeOnce(path, log, write) {
  if (existsSync(path)) return log(`files: ${path} exists`);
  const partial = `${path}.${process.pid}.partial`;
  try {
    await write(partial);
    renameSync(partial, path);
  } finally {
    rmSync(partial, { force: true });
  }
  log(`files: wrote ${path}`);
}

/** The database and the reader role a warehouse URL names. */
export function warehouseOf(url) {
  const parsed = new URL(url);
  return {
    pgDatabase: decodeURIComponent(parsed.pathname.slice(1)) || 'quarry_warehouse',
    reader: { role: decodeURIComponent(parsed.username) || 'quarry_reader', password: decodeURIComponent(parsed.password) },
  };
}

function optionsFromEnv(env = process.env) {
  const warehouseUrl = env.QUARRY_PG_WAREHOUSE_URL || DEFAULT_WAREHOUSE_URL;
  const admin = Object.assign(new URL(warehouseUrl), { username: 'postgres', password: '', pathname: '/postgres' });
  return {
    pgAdminUrl: env.QUARRY_PG_ADMIN_URL || admin.toString(),
    ...warehouseOf(warehouseUrl),
    duckdbDir: env.QUARRY_DUCKDB_WAREHOUSE || join(repoRoot, '.cache', 'warehouse'),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  seedWarehouse(optionsFromEnv()).catch((error) => {
    console.error(`seed failed: ${error.message}`);
    process.exit(1);
  });
}
