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
const conns = new Map();
const streams = new Map();
let instance;

function connection(id) {
  const conn = conns.get(id);
  if (!conn) throw new Error('driver session ' + id + ' is not open');
  return conn;
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
    // prepare() refuses several statements: only the query text's one statement is planned.
    const prepared = await c.prepare('EXPLAIN (FORMAT JSON) ' + sql);
    try {
      const rows = (await prepared.runAndReadAll()).getRowsJson();
      let tables = [];
      try { tables = c.getTableNames(sql, false); } catch { /* planned fine; names are a nicety */ }
      return { json: rows[0][1], tables };
    } finally {
      prepared.destroySync();
    }
  },
  async run({ conn, sql }) {
    const c = connection(conn);
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

const send = (message) => process.connected && process.send(message);
process.on('message', (message) => {
  const handler = handlers[message.op];
  Promise.resolve()
    .then(() => {
      if (!handler) throw new Error('unknown request ' + message.op);
      return handler(message);
    })
    .then(
      (value) => send({ id: message.id, value }),
      (error) => send({ id: message.id, error: String(error && error.message ? error.message : error) }),
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
