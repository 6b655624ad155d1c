// `npm run bench`: builds the node app and the benchmarks, runs every bench/*.bench.ts against a
// database and topic prefix of this run's own, prints one table and writes bench/results/<ISO>.json.
//
//   node tools/bench/run-bench.mjs [--quick] [--filter=<part of a bench file name>]
//
// Reuses a running Kafka broker / PostgreSQL (tools/stack/stack.mjs) and stops only what it
// started; the bench database, any database a bench asked for (ctx.createDatabase), topics and
// consumer groups are removed at the end, even on failure.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import kafkajs from 'kafkajs';
import { chooseBalancer } from '../stack/balancer-command.mjs';
import { buildNodeApp } from '../stack/build-node.mjs';
import { dropRole, grantReader } from '../warehouse/reader-role.mjs';
import { withTimeout } from '../stack/lib/wait.mjs';
import { repoRoot } from '../stack/paths.mjs';
import { createDatabase, dropDatabase } from '../stack/postgres.mjs';
import { withClient, withDatabase } from '../stack/postgres/databases.mjs';
import { stackUp } from '../stack/stack.mjs';

const benchTsconfig = 'bench/tsconfig.json';
const compiledDir = join(repoRoot, 'dist/bench');
const compiledBenchDir = join(compiledDir, 'bench');
const resultsDir = join(repoRoot, 'bench/results');
/**
 * A bench that overruns this is aborted (its clean-up still runs): QUARRY_BENCH_TIMEOUT_MS if set,
 * else the module's own `timeoutMs` export (for a bench whose steps cannot be shortened, such as
 * restarting nodes), else 150 s.
 */
const BENCH_TIMEOUT_ENV_MS = Number(process.env.QUARRY_BENCH_TIMEOUT_MS) || undefined;
const BENCH_TIMEOUT_MS = 150_000;

const log = (line) => console.error(`[bench] ${line}`);

function parseArgs(argv) {
  const options = { quick: false, filter: undefined };
  for (const arg of argv) {
    if (arg === '--quick') options.quick = true;
    else if (arg.startsWith('--filter=')) options.filter = arg.slice('--filter='.length);
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: npm run bench -- [--quick] [--filter=<part of a bench name>]');
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (use --quick, --filter=<name>)`);
  }
  return options;
}

function compileBenches() {
  log('Compiling bench/ ...');
  rmSync(compiledDir, { recursive: true, force: true }); // no stale *.bench.js from a deleted bench
  for (const [tool, ...args] of [['tsc', '-p', benchTsconfig], ['tsc-alias', '-p', benchTsconfig]]) {
    const result = spawnSync(join(repoRoot, 'node_modules/.bin', tool), args, { cwd: repoRoot, stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed`);
  }
  return readdirSync(compiledBenchDir)
    .filter((f) => f.endsWith('.bench.js'))
    .sort()
    .map((f) => join(compiledBenchDir, f));
}

/**
 * Extra databases a bench asks for (`ctx.createDatabase`), e.g. a warehouse for its nodes to query:
 * `quarry_bench_<label>_<random>`. Each is dropped by the bench's own clean-up; whatever is still
 * there when the run ends (a clean-up that failed or timed out) is dropped then.
 */
const readerOf = (database) => `${database}_reader`;

function scratchDatabases(adminUrl) {
  const live = new Set();
  return {
    async create(label) {
      if (!/^[a-z][a-z0-9]{0,15}$/.test(String(label))) throw new Error(`database label ${JSON.stringify(label)}: use up to 16 lower-case letters and digits`);
      const name = `quarry_bench_${label}_${randomBytes(6).toString('hex')}`;
      live.add(name); // before creating, so a half-done create is still dropped
      await createDatabase(adminUrl, name);
      const url = withDatabase(adminUrl, name);
      // The pg driver of a node refuses a superuser: nodes query as a reader role of this database's own.
      await grantReader(url, { role: readerOf(name) });
      log(`created database ${name}`);
      return { name, url, readerUrl: Object.assign(new URL(url), { username: readerOf(name), password: '' }).toString() };
    },
    async drop(name) {
      await dropDatabase(adminUrl, name);
      await dropRole(adminUrl, readerOf(name));
      live.delete(name);
      log(`dropped database ${name}`);
    },
    async dropAll() {
      for (const name of [...live]) await this.drop(name).catch((error) => log(`could not drop database ${name}: ${error.message}`));
    },
  };
}

/** Runs `fn` with a context whose deferred clean-ups always run, last registered first. */
async function runOne(file, baseCtx, stopSignal, scratch) {
  const cleanups = [];
  const controller = new AbortController();
  const onStop = () => controller.abort(stopSignal.reason);
  stopSignal.addEventListener('abort', onStop);
  const name = relative(compiledBenchDir, file).replace(/\.bench\.js$/, '');
  const ctx = {
    ...baseCtx,
    log: (line) => log(`${name}: ${line}`),
    defer: (cleanup) => cleanups.push(cleanup),
    createDatabase: async (label) => {
      controller.signal.throwIfAborted();
      const created = await scratch.create(label);
      cleanups.push(() => scratch.drop(created.name));
      return created;
    },
    signal: controller.signal,
  };
  const started = Date.now();
  let timer;
  try {
    const mod = await import(pathToFileURL(file).href);
    const run = mod.run ?? mod.default?.run;
    if (typeof run !== 'function') throw new Error(`${file} exports no run(ctx)`);
    const timeoutMs = BENCH_TIMEOUT_ENV_MS ?? (Number(mod.timeoutMs ?? mod.default?.timeoutMs) || BENCH_TIMEOUT_MS);
    const running = Promise.resolve().then(() => run(ctx));
    running.catch(() => undefined);
    const overrun = new Promise((_, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`${name} overran ${timeoutMs / 1000} s and was aborted`);
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    const stopped = new Promise((_, reject) => {
      if (controller.signal.aborted) reject(controller.signal.reason);
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason));
    });
    stopped.catch(() => undefined);
    const rows = await Promise.race([running, overrun, stopped]);
    if (!Array.isArray(rows)) throw new Error(`${name}: run(ctx) returned no rows`);
    return { name, file: relative(repoRoot, file), ok: true, durationMs: Date.now() - started, rows: rows.map(withRatio) };
  } catch (error) {
    log(`${name} FAILED: ${error?.stack ?? error}`);
    return { name, file: relative(repoRoot, file), ok: false, durationMs: Date.now() - started, error: String(error?.message ?? error), rows: [] };
  } finally {
    clearTimeout(timer);
    stopSignal.removeEventListener('abort', onStop);
    if (!controller.signal.aborted) controller.abort(new Error('bench finished'));
    for (const cleanup of cleanups.reverse()) {
      try {
        await withTimeout(Promise.resolve().then(cleanup), 30_000, `${name} clean-up`);
      } catch (error) {
        log(`${name}: clean-up failed: ${error.message}`);
      }
    }
  }
}

function withRatio(row) {
  const ratio = row.baseline && Number.isFinite(row.baseline.value) && row.baseline.value !== 0 ? row.value / row.baseline.value : undefined;
  return { ...row, ...(ratio === undefined ? {} : { ratio }) };
}

function formatNumber(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** Two decimals, or two significant digits for a ratio too small to show that way (0.0032x, not 0.00x). */
function formatRatio(ratio) {
  return Math.abs(ratio) > 0 && Math.abs(ratio) < 0.1 ? ratio.toPrecision(2) : ratio.toFixed(2);
}

function printTable(rows) {
  const header = ['name', 'metric', 'value', 'unit', 'baseline', 'ratio'];
  const body = rows.map((r) => [
    r.name,
    r.metric,
    formatNumber(r.value),
    r.unit,
    r.baseline ? `${r.baseline.name.replace(/^baseline: /, '')} ${r.baseline.metric} (${formatNumber(r.baseline.value)} ${r.baseline.unit})` : '',
    r.ratio === undefined ? '' : `${formatRatio(r.ratio)}x`,
  ]);
  const numeric = new Set([2, 5]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
}

/** Deletes this run's topics and consumer groups (everything named after its prefix). */
async function deleteKafkaLeftovers(brokers, prefix) {
  const kafka = new kafkajs.Kafka({ clientId: `${prefix}-cleanup`, brokers, logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 2 } });
  const admin = kafka.admin();
  try {
    await withTimeout(
      (async () => {
        await admin.connect();
        const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`${prefix}.`));
        if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
        const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
        if (topics.length) await admin.deleteTopics({ topics, timeout: 10_000 });
        log(`removed ${topics.length} topic(s) and ${groups.length} consumer group(s) named ${prefix}.*`);
      })(),
      30_000,
      'Kafka clean-up',
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** The server settings that decide what a commit costs, kept with the figures. */
function postgresSettings(adminUrl) {
  return withClient(adminUrl, async (client) => {
    const settings = {};
    for (const name of ['server_version', 'fsync', 'synchronous_commit', 'wal_sync_method', 'shared_buffers']) {
      settings[name] = (await client.query(`SHOW ${name}`)).rows[0][name];
    }
    return settings;
  });
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (signal) => {
    signals++;
    if (signals > 1) process.exit(130); // a second Ctrl-C: give up on clean-up
    log(`${signal}: stopping, cleaning up (Ctrl-C again to quit at once)`);
    stop.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // An error nobody listened for (e.g. a pg client of a bench losing its connection when a
  // database is dropped at clean-up) must not kill the runner before the clean-up is done.
  const uncaught = [];
  process.on('uncaughtException', (error) => {
    uncaught.push(error);
    log(`uncaught error (cleaning up all the same; the run fails): ${error?.stack ?? error}`);
  });

  const startedAt = new Date();
  const t0 = Date.now();
  // The benches start the balancer npm start would (QUARRY_BALANCER); a choice that cannot be had fails here.
  const balancer = chooseBalancer();
  log(`balancer: ${balancer.kind}${balancer.haproxy ? ` (${balancer.haproxy})` : ''}, QUARRY_BALANCER=${process.env.QUARRY_BALANCER || 'auto'}`);
  const stack = await stackUp({ log: (line) => log(`stack: ${line}`) });
  const brokers = stack.brokers.split(',').map((b) => b.trim()).filter(Boolean);
  const suffix = randomBytes(6).toString('hex');
  const databaseName = `quarry_bench_${suffix}`;
  const topicPrefix = `bench${suffix}`;
  let databaseCreated = false;
  const scratch = scratchDatabases(stack.adminUrl);
  let postgres;
  const results = [];
  let failed = false;
  try {
    const nodeMain = buildNodeApp({ log });
    let files = compileBenches();
    if (options.filter) files = files.filter((f) => relative(compiledBenchDir, f).includes(options.filter));
    if (files.length === 0) throw new Error(`no bench matches ${options.filter ?? 'bench/*.bench.ts'}`);
    stop.signal.throwIfAborted();

    await createDatabase(stack.adminUrl, databaseName);
    databaseCreated = true;
    postgres = await postgresSettings(stack.adminUrl).catch(() => undefined);
    const databaseUrl = withDatabase(stack.adminUrl, databaseName);
    log(`database ${databaseName}, topic prefix ${topicPrefix}, brokers ${brokers.join(',')}${options.quick ? ', --quick' : ''}`);

    const baseCtx = { quick: options.quick, databaseUrl, databaseName, brokers, topicPrefix, nodeMain, repoRoot };
    for (const file of files) {
      if (stop.signal.aborted) break;
      log(`running ${relative(compiledBenchDir, file)}`);
      const result = await runOne(file, baseCtx, stop.signal, scratch);
      log(`${result.name}: ${result.ok ? 'done' : 'failed'} in ${(result.durationMs / 1000).toFixed(1)} s`);
      results.push(result);
    }
    failed = results.some((r) => !r.ok) || stop.signal.aborted;
  } catch (error) {
    failed = true;
    log(`error: ${error.message}`);
  } finally {
    await deleteKafkaLeftovers(brokers, topicPrefix).catch((error) => log(`Kafka clean-up failed: ${error.message}`));
    await scratch.dropAll();
    if (databaseCreated) {
      await dropDatabase(stack.adminUrl, databaseName).then(
        () => log(`dropped database ${databaseName}`),
        (error) => log(`could not drop database ${databaseName}: ${error.message}`),
      );
    }
    await stack.down().catch((error) => log(`stack down failed: ${error.message}`));
  }

  const rows = results.flatMap((r) => r.rows);
  if (rows.length > 0) {
    console.log('');
    printTable(rows);
  }
  for (const r of results.filter((r) => !r.ok)) console.log(`\nFAILED ${r.name}: ${r.error}`);
  // An interrupted run that measured nothing leaves no report behind.
  if (rows.length > 0 || (results.length > 0 && !stop.signal.aborted)) {
    const report = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      durationMs: Date.now() - t0,
      quick: options.quick,
      machine: {
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryBytes: totalmem(),
        loadavg: loadavg(),
      },
      stack: { brokers, database: databaseName, topicPrefix, startedKafka: stack.startedKafka, postgres, balancer },
      benches: results,
      rows,
    };
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `${startedAt.toISOString()}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwritten ${relative(repoRoot, file)} (${((Date.now() - t0) / 1000).toFixed(0)} s in all)`);
    if (rows.length > 0) console.log('Figures depend on the machine and its load: compare ratios within one run, not values across machines.');
  }
  for (const error of uncaught) console.log(`\nUNCAUGHT ERROR: ${error?.message ?? error}`);
  return failed || uncaught.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`[bench] error: ${error.message}`);
    process.exit(1);
  },
);
