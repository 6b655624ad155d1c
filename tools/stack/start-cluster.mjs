// `npm start`: the local cluster. Kafka and PostgreSQL (reused or started), three nodes L1, L2
// and L3 running every service, and a round-robin balancer in its own process in front of them:
// HAProxy when it is installed, else tools/stack/balancer.mjs (balancer-command.mjs).
// Ctrl-C stops everything this script started.
//
//   QUARRY_PORT=8080            the balancer's port
//   QUARRY_BALANCER=auto        auto, node or haproxy
//   QUARRY_NODE_PORTS=3001,3002,3003   the nodes' ports (their count is the cluster's size)
//   QUARRY_CLUSTER_SECRET       the secret the nodes share (a new random one per run by default)
//   --no-build                  use the dist/ already built
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { balancerCommand, chooseBalancer } from './balancer-command.mjs';
import { buildNodeApp, nodeMain, nodeRuntimeFlags } from './build-node.mjs';
import { cacheDir, repoRoot } from './paths.mjs';
import { stackUp } from './stack.mjs';
import { seedWarehouse, warehouseOf } from '../warehouse/seed.mjs';
import { waitFor } from './lib/wait.mjs';

const log = (line) => console.log(`[quarry] ${line}`);
const balancerPort = Number(process.env.QUARRY_PORT ?? 8080);
const nodePorts = (process.env.QUARRY_NODE_PORTS ?? '3001,3002,3003').split(',').map(Number);
// Each node's gRPC API (quarry.v1): 9101, 9102, ... unless QUARRY_GRPC_PORTS lists them.
const grpcPorts = (process.env.QUARRY_GRPC_PORTS ?? nodePorts.map((_, i) => 9101 + i).join(',')).split(',').map(Number);
const logDir = join(cacheDir, 'logs');
// Node-to-node requests carry it; made per run and given to this run's nodes only, never printed.
const clusterSecret = process.env.QUARRY_CLUSTER_SECRET || randomBytes(32).toString('base64url');

async function answersHealth(url) {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** A child process logging to .cache/logs/<name>.log. */
function startProcess(name, { command = process.execPath, args, env }) {
  const logFile = join(logDir, `${name}.log`);
  const out = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  return { name, child, logFile, exited: new Promise((resolve) => child.once('exit', resolve)) };
}

/**
 * The pg driver's warehouse URL: QUARRY_PG_WAREHOUSE_URL as given, else quarry_warehouse on the
 * stack's server as the login role quarry_reader, whose password is made once and kept in the cache.
 */
function warehouseUrlFor(stack) {
  if (process.env.QUARRY_PG_WAREHOUSE_URL) return new URL(process.env.QUARRY_PG_WAREHOUSE_URL);
  const passwordFile = join(cacheDir, 'quarry_reader.password');
  try {
    writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if (error.code !== 'EEXIST') throw error; // made by an earlier start
  }
  return Object.assign(new URL(stack.adminUrl), { username: 'quarry_reader', password: readFileSync(passwordFile, 'utf8').trim(), pathname: '/quarry_warehouse' });
}

async function main() {
  mkdirSync(logDir, { recursive: true });
  let balancerChoice;
  try {
    balancerChoice = chooseBalancer(); // before anything starts: a QUARRY_BALANCER that cannot be had fails at once
  } catch (error) {
    log(`Start failed: ${error.message}`);
    process.exit(1);
  }
  const stack = await stackUp({ log });
  const processes = [];
  let stopping = false;
  const stopAll = async (code) => {
    if (stopping) return;
    stopping = true;
    log('Stopping ...');
    for (const p of [...processes].reverse()) p.child.kill('SIGTERM');
    const timer = setTimeout(() => processes.forEach((p) => p.child.kill('SIGKILL')), 20_000);
    await Promise.all(processes.map((p) => p.exited));
    clearTimeout(timer);
    await stack.down();
    log('Stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    if (!process.argv.includes('--no-build')) buildNodeApp({ log });
    // The demo warehouse, so the first query a new user types returns rows.
    const warehouseUrl = warehouseUrlFor(stack);
    const duckdbDir = process.env.QUARRY_DUCKDB_WAREHOUSE ?? join(cacheDir, 'warehouse');
    await seedWarehouse({ pgAdminUrl: stack.adminUrl, ...warehouseOf(warehouseUrl.toString()), duckdbDir, log });
    const nodes = nodePorts.map((port, i) => ({ id: `L${i + 1}`, port, grpcPort: grpcPorts[i], url: `http://127.0.0.1:${port}` }));
    const nodeEnv = (node) => ({
      QUARRY_NODE_ID: node.id,
      QUARRY_HTTP_PORT: String(node.port),
      QUARRY_GRPC_PORT: String(node.grpcPort),
      QUARRY_CLUSTER_SECRET: clusterSecret,
      DATABASE_URL: process.env.DATABASE_URL ?? stack.databaseUrl,
      KAFKA_BROKERS: stack.brokers,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      QUARRY_PG_WAREHOUSE_URL: warehouseUrl.toString(),
      QUARRY_DUCKDB_WAREHOUSE: duckdbDir,
      QUARRY_RESOURCE_ROOTS: process.env.QUARRY_RESOURCE_ROOTS ?? join(repoRoot, 'examples/resources'),
    });
    // A node that the cluster declared down while it was alive exits 75 to start again as a new
    // incarnation, as a supervisor would restart it; any other exit is left for the user to see.
    const launch = (node) => {
      const p = startProcess(node.id, { args: [...nodeRuntimeFlags, nodeMain, '--target=all'], env: nodeEnv(node) });
      processes.push(p);
      p.exited.then((code) => {
        if (stopping) return;
        log(`${node.id} exited (${code}); see ${p.logFile}`);
        if (code !== 75) return;
        processes.splice(processes.indexOf(p), 1);
        log(`${node.id} was declared down while alive; starting it again`);
        launch(node);
      });
    };
    nodes.forEach(launch);
    for (const node of nodes) {
      await waitFor(() => answersHealth(node.url), { timeoutMs: 120_000, description: `${node.id} on ${node.url}` });
    }
    // HAProxy runs in the foreground (-db) as a child like the nodes, so it stops with them.
    const command = await balancerCommand({ choice: balancerChoice, port: balancerPort, backends: nodes.map((n) => `${n.id}=${n.url}`) }); // named: pages are routed to their holder (ADR 21)
    const balancer = startProcess('balancer', command);
    processes.push(balancer);
    balancer.exited.then((code) => {
      if (command.configFile) rmSync(command.configFile, { force: true });
      if (!stopping) log(`the balancer (${command.kind}) exited (${code}); see ${balancer.logFile}`);
    });
    await waitFor(() => answersHealth(`http://127.0.0.1:${balancerPort}`), { timeoutMs: 15_000, description: 'the balancer' });

    log('Quarry is up.');
    log(`  balancer   http://127.0.0.1:${balancerPort}   (${command.configFile ? `HAProxy, ${command.configFile}` : 'tools/stack/balancer.mjs'}; round robin over the nodes; QUARRY_BALANCER=node|haproxy to choose)`);
    for (const node of nodes) log(`  ${node.id.padEnd(10)} ${node.url}   gRPC 127.0.0.1:${node.grpcPort}   log: ${join(logDir, `${node.id}.log`)}`);
    log(`  Kafka      ${stack.brokers}`);
    log(`  database   ${(process.env.DATABASE_URL ?? stack.databaseUrl).replace(/:[^:@/]*@/, ':***@')}`);
    log(`  warehouse  pg: ${warehouseUrl.pathname.slice(1)} as ${decodeURIComponent(warehouseUrl.username)} (tables sales, regions); duckdb: ${duckdbDir} (sales.parquet, regions.csv)`);
    log(`Try: curl http://127.0.0.1:${balancerPort}/health   (Ctrl-C stops everything; README shows a first query)`);
  } catch (error) {
    log(`Start failed: ${error.message}`);
    await stopAll(1);
  }
}

main();
