/**
 * The DuckDB host: plain JavaScript run by `node -e` in a child process whose working directory
 * is the warehouse folder. DuckDB checks a relative file name against the process's working
 * directory before it consults file_search_path, so confinement (allowed_directories with
 * external access off) and relative names work together only in a process of its own. Kept as
 * a string so it runs the same from sources (tests) and from the compiled app.
 *
 * Protocol: each request `{ id, op, ... }` gets one reply `{ id, value }` or `{ id, error }` (with
 * `limit: { kind, bytes, exact }` when a value or row was over its limit). A statement is `run`
 * (replies with its columns), then `more` until `{ done: true }`: each reply carries the rows of
 * one DuckDB chunk, or as many of them as fit in REPLY_BYTES (at least one), so neither process
 * holds more than a chunk and no message outgrows what IPC can carry.
 *
 * Isolation: the instance's own catalog is an empty database file opened read-only, so nobody can
 * create a view, table or macro that another session's query would see; what a session creates
 * (TEMP objects, init scripts' macros) lives in its connection's temp catalog, seen by it alone.
 */
export const HOST_SOURCE = String.raw`
'use strict';
const { DuckDBInstance, DuckDBTypeId, JsonDuckDBValueConverter } = require(process.env.QUARRY_DUCKDB_MODULE);
const { tempDir, maxValueBytes, maxRowBytes } = JSON.parse(process.argv[1]);
const REPLY_BYTES = 8 * 1024 * 1024;
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
  // The shared catalog: an empty database, read-only, so no session can put anything in it.
  const catalog = require('node:path').join(tempDir, 'quarry.duckdb');
  (await DuckDBInstance.create(catalog)).closeSync();
  instance = await DuckDBInstance.create(catalog, { access_mode: 'READ_ONLY', temp_directory: tempDir });
  const setup = await instance.connect();
  // Once external access is off, allowed_directories cannot change; the lock keeps every other
  // global setting (memory, threads, temp folder) out of reach of queries and init scripts.
  await setup.run('SET allowed_directories = [$1]', [process.cwd()]);
  await setup.run('SET enable_external_access = false');
  await setup.run('SET lock_configuration = true');
  setup.closeSync();
}

/** A value or row over its limit: the reply names which, so the driver fails the query saying so. */
class OverLimit extends Error {
  constructor(kind, bytes, exact) {
    super(kind + ' of ' + (exact ? '' : 'at least ') + bytes + ' bytes is over the limit');
    this.limit = { kind, bytes, exact };
  }
}

/** A value's size as the node will hold it: a text's UTF-8 bytes (counted exactly once it could matter), 8 for a scalar. */
function valueBytes(value) {
  if (typeof value !== 'string') return 8;
  return value.length <= 1024 ? value.length : Buffer.byteLength(value);
}

/**
 * One row as JSON-friendly values, within the limits. Nested values become their JSON text here
 * (the driver would make it anyway), so that they are measured before they travel.
 */
function convertRow(chunk, index) {
  let row;
  try {
    row = chunk.convertRowValues(index, JsonDuckDBValueConverter);
  } catch (e) {
    // V8 cannot make a string that long (about 512 MiB): far over any value limit.
    if (/string longer than/.test(String(e && e.message))) throw new OverLimit('value', 0x1fffffe8, false);
    throw e;
  }
  let bytes = 0;
  for (let i = 0; i < row.length; i++) {
    if (row[i] !== null && typeof row[i] === 'object') row[i] = JSON.stringify(row[i]);
    const size = valueBytes(row[i]);
    if (size > maxValueBytes) throw new OverLimit('value', size, true);
    bytes += size;
  }
  if (bytes > maxRowBytes) throw new OverLimit('row', bytes, true);
  return { row, bytes };
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
    streams.set(conn, { result, chunk: undefined, next: 0 });
    const types = result.columnTypes();
    return result.columnNames().map((name, i) => ({ name, type: DuckDBTypeId[types[i].typeId], sqlType: types[i].toString() }));
  },
  async more({ conn }) {
    const stream = streams.get(conn);
    if (!stream) throw new Error('no statement is streaming on driver session ' + conn);
    if (!stream.chunk || stream.next >= stream.chunk.rowCount) {
      stream.chunk = await stream.result.fetchChunk();
      stream.next = 0;
      if (!stream.chunk || stream.chunk.rowCount === 0) {
        streams.delete(conn);
        return { done: true };
      }
    }
    const rows = [];
    let bytes = 0;
    while (stream.next < stream.chunk.rowCount && bytes < REPLY_BYTES) {
      const converted = convertRow(stream.chunk, stream.next++);
      rows.push(converted.row);
      bytes += converted.bytes;
    }
    return { rows };
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
        if (error instanceof OverLimit) streams.delete(message.conn);
        await send({ id: message.id, error: String(error && error.message ? error.message : error), limit: error && error.limit });
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
