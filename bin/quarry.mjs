#!/usr/bin/env node
// `npx quarry ...`: the root package.json names this file as the `quarry` bin, so npx runs it from
// the repository without a build step. It compiles apps/cli (and the libs it imports) into dist/
// on first use, and again whenever a source is newer than that build, then runs it in this process
// (so Ctrl-C reaches the CLI itself). `--build-only` compiles and exits (nx run cli:build).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tsconfig = 'apps/cli/tsconfig.app.json';
const main = join(root, 'dist/apps/cli/apps/cli/src/main.js');
const stamp = join(root, 'dist/apps/cli/.built');
const sources = ['apps/cli/src', 'libs/contracts/src', 'apps/cli/tsconfig.app.json', 'apps/cli/tsconfig.json', 'tsconfig.base.json'];

function newestSource(path) {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestSource(join(path, entry)));
  return newest;
}

function build() {
  process.stderr.write('quarry: compiling the CLI (first use or changed sources) ...\n');
  for (const [tool, ...args] of [['tsc', '-p', tsconfig], ['tsc-alias', '-p', tsconfig]]) {
    const result = spawnSync(join(root, 'node_modules/.bin', tool), args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status !== 0) {
      process.stderr.write(`quarry: ${tool} ${args.join(' ')} failed; run npm ci first\n`);
      process.exit(1);
    }
  }
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

const stale = !existsSync(main) || !existsSync(stamp) || statSync(stamp).mtimeMs < Math.max(...sources.map((s) => newestSource(join(root, s))));
if (stale || process.argv[2] === '--build-only') build();
if (process.argv[2] !== '--build-only') createRequire(import.meta.url)(main);
