/**
 * The DuckDB host: plain JavaScript run by `node -e` in a child process whose working directory
 * is the warehouse folder. DuckDB checks a relative file name against the process's working
 * directory before it consults file_search_path, so confinement (allowed_directories with
 * external access off) and relative names work together only in a process of its own. Kept as
 * a string so it runs the same from sources (tests) and from the compiled app.
 *
 * Protocol: each request `{ id, op, ... }` gets one reply `{ id, value }` or `{ id, error }`.
 * A statement is `run` (replies with its columns), then `more` until `{ done: true }`: one chunk
 * in flight, so neither process holds more than that.
 */
export const HOST_SOURCE = String.raw`
'use strict';
const { DuckDBInstance, DuckDBTypeId, JsonDuckDBValueConverter } = require(process.env.QUARRY_DUCKDB_MODULE);
const { tempDir } = JSON.parse(process.argv[1]);
// Spill files go with the host, also when the driver's process went first.
process.on('exit', () => require('node:fs').rmSync(tempDir, { recursive: true, force: true }));
const conns = new Map();
const streams = new Map();
let instance;

// What a query must not do although DuckDB would let it. Writing files: inside the warehouse
// folder DuckDB allows it, and COPY ... TO 'sales.parquet' would overwrite the data. Logging:
// enable_logging changes instance-wide state although the configuration is locked (DuckDB 1.5);
// to a path outside the folder it leaves every later query of every session failing, to memory
// it records other sessions' SQL. Statements are judged by their bound plan (macros and query()
// are expanded there; ATTACH, EXPORT and IMPORT cannot be planned, so they never run); init
// scripts, which cannot be planned one statement at a time here, by their words, conservatively.
const REFUSED_IN_PLANS = {
  COPY_TO_FILE: 'writing files (COPY ... TO)',
  BATCH_COPY_TO_FILE: 'writing files (COPY ... TO)',
  ENABLE_LOGGING: 'enable_logging',
  DISABLE_LOGGING: 'disable_logging',
  TRUNCATE_DUCKDB_LOGS: 'truncate_duckdb_logs',
  JSON_EXECUTE_SERIALIZED_SQL: 'json_execute_serialized_sql',
};
const REFUSED_IN_SCRIPTS = /\b(enable_logging|disable_logging|truncate_duckdb_logs|json_execute_serialized_sql|query|query_table|copy|export|attach)\b/i;

function connection(id) {
  const conn = conns.get(id);
  if (!conn) throw new Error('driver session ' + id + ' is not open');
  return conn;
}

/** Plans the query text's one statement (prepare refuses several) and refuses what it must not run. */
async function plan(c, sql) {
  const prepared = await c.prepare('EXPLAIN (FORMAT JSON) ' + sql);
  let json;
  try {
    json = (await prepared.runAndReadAll()).getRowsJson()[0][1];
  } finally {
    prepared.destroySync();
  }
  const refused = Object.keys(REFUSED_IN_PLANS).find((name) => json.includes('"' + name + '"'));
  if (refused) throw new Error(REFUSED_IN_PLANS[refused] + ' is not allowed on this server');
  return json;
}

/** After a failure: if DuckDB no longer answers at all, exit so the driver starts a fresh host. */
async function checkHealth() {
  try {
    const probe = await instance.connect();
    try {
      await probe.run('SELECT 1');
    } finally {
      probe.closeSync();
    }
  } catch {
    process.exit(70);
  }
}

async function start() {
  instance = await DuckDBInstance.create(':memory:', { temp_directory: tempDir });
  const setup = await instance.connect();
  // Once external access is off, allowed_directories cannot change; the lock keeps every other
  // global setting (memory, threads, temp folder) out of reach of queries and init scripts.
  await setup.run('SET allowed_directories = [$1]', [process.cwd()]);
  await setup.run('SET enable_external_access = false');
  await setup.run('SET lock_configuration = true');
  setup.closeSync();
}

const handlers = {
  async open({ conn, scripts }) {
    const c = await instance.connect();
    try {
      for (const script of scripts) {
        const word = REFUSED_IN_SCRIPTS.exec(script.sql);
        if (word) throw new Error('init script ' + script.path + ': ' + word[1] + ' is not allowed in init scripts on this server');
        await c.run(script.sql).catch((e) => { throw new Error('init script ' + script.path + ': ' + e.message); });
      }
    } catch (e) {
      c.closeSync();
      throw e;
    }
    conns.set(conn, c);
  },
  async drop({ conn }) {
    streams.delete(conn);
    conns.get(conn)?.closeSync();
    conns.delete(conn);
  },
  async explain({ conn, sql }) {
    const c = connection(conn);
    const json = await plan(c, sql);
    let tables = [];
    try { tables = c.getTableNames(sql, false); } catch { /* planned fine; names are a nicety */ }
    return { json, tables };
  },
  async run({ conn, sql }) {
    const c = connection(conn);
    await plan(c, sql);
    const prepared = await c.prepare(sql);
    let result;
    try {
      result = await prepared.stream();
    } finally {
      prepared.destroySync();
    }
    streams.set(conn, result);
    const types = result.columnTypes();
    return result.columnNames().map((name, i) => ({ name, type: DuckDBTypeId[types[i].typeId], sqlType: types[i].toString() }));
  },
  async more({ conn }) {
    const result = streams.get(conn);
    if (!result) throw new Error('no statement is streaming on driver session ' + conn);
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) {
      streams.delete(conn);
      return { done: true };
    }
    return { rows: chunk.convertRows(JsonDuckDBValueConverter) };
  },
  async stop({ conn }) {
    streams.delete(conn);
  },
  async interrupt({ conn }) {
    conns.get(conn)?.interrupt();
  },
  async shutdown() {
    for (const c of conns.values()) c.closeSync();
    conns.clear();
    streams.clear();
    instance.closeSync();
    setImmediate(() => process.exit(0));
  },
};

const send = (message) => new Promise((resolve) => (process.connected ? process.send(message, resolve) : resolve()));
process.on('message', (message) => {
  const handler = handlers[message.op];
  Promise.resolve()
    .then(() => {
      if (!handler) throw new Error('unknown request ' + message.op);
      return handler(message);
    })
    .then(
      (value) => send({ id: message.id, value }),
      async (error) => {
        await send({ id: message.id, error: String(error && error.message ? error.message : error) });
        if (instance) await checkHealth();
      },
    );
});
// The driver's process is gone: nothing is left to answer to.
process.on('disconnect', () => process.exit(0));
start().then(
  () => send({ ready: true }),
  (error) => {
    send({ fatal: String(error && error.message) });
    process.exit(1);
  },
);
`;
