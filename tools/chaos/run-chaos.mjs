// `npm run chaos -- --seconds=N [--seed=S] [--clients=C] [--settle-seconds=T]`: a long chaos run
// (apps/node/src/e2e/chaos, the harness `npm test` runs for about 90 s). Brings up PostgreSQL (the
// harness starts its own broker), builds the node app and the harness, runs it, and exits non-zero
// unless lost, duplicated, invalid, wrong, ghost_writes and unplanned_exits are all 0.
// The verdict is the line starting `chaos: ` on stdout; progress goes to stderr.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildNodeApp } from '../stack/build-node.mjs';
import { repoRoot } from '../stack/paths.mjs';
import { stackUp } from '../stack/stack.mjs';

const tsconfig = 'apps/node/tsconfig.chaos.json';
const entry = join(repoRoot, 'dist/chaos/apps/node/src/e2e/chaos/run-chaos.js');
const log = (line) => console.error(`[chaos] ${line}`);

function compileHarness() {
  log('Compiling the chaos harness ...');
  for (const [tool, ...args] of [['tsc', '-p', tsconfig], ['tsc-alias', '-p', tsconfig]]) {
    const result = spawnSync(join(repoRoot, 'node_modules/.bin', tool), args, { cwd: repoRoot, stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed`);
  }
}

async function main() {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log('usage: npm run chaos -- --seconds=N [--seed=S] [--clients=C] [--settle-seconds=T]');
    return 0;
  }
  const stack = await stackUp({ log: (line) => log(`stack: ${line}`) });
  try {
    buildNodeApp({ log });
    compileHarness();
    // The harness hears Ctrl-C itself (it stops dealing faults and cleans up); this process waits for it.
    process.on('SIGINT', () => undefined);
    const child = spawn(process.execPath, [entry, ...args], {
      cwd: repoRoot,
      stdio: 'inherit',
      env: { ...process.env, QUARRY_TEST_ADMIN_URL: stack.adminUrl, KAFKA_BROKERS: stack.brokers, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    });
    const [code, signal] = await new Promise((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    return code ?? (signal ? 1 : 0);
  } finally {
    await stack.down();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    log(`error: ${error.message}`);
    process.exit(1);
  },
);
