// `nx serve <app>`: runs one built app against the local stack, on a port of its own, so
// `npx nx run-many -t serve` runs the microservices shape (each service its own process).
// Start the stack first (`npm run stack:up`): several serve tasks must not race to start Kafka.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeRuntimeFlags } from './build-node.mjs';
import { kafkaAnswers } from './kafka.mjs';
import { cacheDir, repoRoot } from './paths.mjs';

// Port and node id per app folder under apps/; `node` is the all-in-one process.
const APPS = {
  node: { port: 3010, nodeId: 'dev-node' },
  gateway: { port: 3011, nodeId: 'dev-gateway' },
  session: { port: 3012, nodeId: 'dev-session' },
  query: { port: 3013, nodeId: 'dev-query' },
  driver: { port: 3014, nodeId: 'dev-driver' },
  result: { port: 3015, nodeId: 'dev-result' },
};

/**
 * The apps run as separate `nx serve` tasks, yet must share one cluster secret: the first makes it
 * (random) in the cache folder, readable by this user only, and the others read it.
 */
function devClusterSecret() {
  if (process.env.QUARRY_CLUSTER_SECRET) return process.env.QUARRY_CLUSTER_SECRET;
  const file = join(cacheDir, 'dev-cluster-secret');
  mkdirSync(cacheDir, { recursive: true });
  try {
    writeFileSync(file, randomBytes(32).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
  }
  return readFileSync(file, 'utf8').trim();
}

async function main() {
  const name = process.argv[2];
  const app = APPS[name];
  if (!app) {
    console.error(`usage: serve-app.mjs <${Object.keys(APPS).join('|')}>`);
    process.exit(2);
  }
  const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  if (!(await kafkaAnswers(brokers, 5000))) {
    console.error(`Kafka does not answer on ${brokers}: run \`npm run stack:up\` first (or set KAFKA_BROKERS).`);
    process.exit(1);
  }
  const main = join(repoRoot, 'dist/apps', name, 'apps', name, 'src/main.js');
  const child = spawn(process.execPath, [...nodeRuntimeFlags, main], {
    cwd: repoRoot,
    stdio: 'inherit',
    env: {
      ...process.env,
      QUARRY_NODE_ID: app.nodeId,
      QUARRY_HTTP_PORT: String(app.port),
      // The gateway's gRPC API beside it: 9110 for the all-in-one node, 9111 for the gateway app.
      QUARRY_GRPC_PORT: String(app.port + 6100),
      QUARRY_CLUSTER_SECRET: devClusterSecret(),
      DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/quarry',
      KAFKA_BROKERS: brokers,
    },
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 0));
}

main();
