// `npm test`: brings up what the tests need (reusing a running stack), builds the node app for
// the end-to-end tests, runs Jest, and stops only what it started.
//
//   node tools/test/run-tests.mjs [--kind=unit|int|e2e[,..]] [--path=libs/eventstore] [jest args...]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../stack/paths.mjs';
import { stackUp } from '../stack/stack.mjs';

const KINDS = ['unit', 'int', 'e2e'];

function parse(argv) {
  const options = { kinds: KINDS, path: undefined, rest: [] };
  for (const arg of argv) {
    if (arg.startsWith('--kind=')) options.kinds = arg.slice(7).split(',');
    else if (arg.startsWith('--path=')) options.path = arg.slice(7);
    else options.rest.push(arg);
  }
  const unknown = options.kinds.filter((k) => !KINDS.includes(k));
  if (unknown.length) throw new Error(`unknown test kind ${unknown.join(', ')}; use ${KINDS.join(', ')}`);
  return options;
}

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { cwd: repoRoot, stdio: 'inherit', env });
  return result.status ?? 1;
}

function buildNodeApp() {
  const tsconfig = 'apps/node/tsconfig.app.json';
  return run('npx', ['tsc', '-p', tsconfig]) || run('npx', ['tsc-alias', '-p', tsconfig]);
}

/** The plain closing line CI reads, whatever the runner printed above it. */
function summarise(resultsFile) {
  try {
    const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
    const skipped = results.numPendingTests + results.numTodoTests;
    console.log(`\ntests: ${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
  } catch {
    console.log('\ntests: Jest wrote no results (see its output above)');
  }
}

async function main() {
  const options = parse(process.argv.slice(2));
  const needsStack = options.kinds.some((k) => k !== 'unit');
  const stack = needsStack ? await stackUp({ log: (line) => console.error(`[stack] ${line}`) }) : undefined;
  const workDir = mkdtempSync(join(tmpdir(), 'quarry-tests-'));
  let status = 1;
  try {
    if (options.kinds.includes('e2e') && buildNodeApp() !== 0) throw new Error('building apps/node failed');
    const env = { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' };
    if (stack) Object.assign(env, { KAFKA_BROKERS: stack.brokers, QUARRY_TEST_ADMIN_URL: stack.adminUrl });
    const resultsFile = join(workDir, 'results.json');
    const jestArgs = ['jest', '-c', 'jest.config.js', '--selectProjects', ...options.kinds, '--json', `--outputFile=${resultsFile}`];
    // Two cores: run test files one after another; the e2e files start several processes each.
    jestArgs.push('--runInBand', ...options.rest);
    if (options.path) jestArgs.push('--passWithNoTests', options.path);
    status = run('npx', jestArgs, env);
    summarise(resultsFile);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
    await stack?.down();
  }
  process.exit(status);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
