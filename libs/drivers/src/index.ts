export * from './driver';
export * from './choose-driver';
export * from './session-pool';
export { PgDriver, type PgDriverOptions } from './pg/pg-driver';
export { lensTypeForOid } from './pg/pg-types';
export { DuckDbDriver, type DuckDbDriverOptions } from './duckdb/duckdb-driver';
export { lensTypeForDuckDb } from './duckdb/duckdb-types';
