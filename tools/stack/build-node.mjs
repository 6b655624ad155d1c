// Compiles apps/node (and the libs it imports) into dist/, the way `nx run node:build` does.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.mjs';

export const nodeMain = join(repoRoot, 'dist/apps/node/apps/node/src/main.js');
/** The node flags a Quarry node is started with (apps/node/runtime-flags.json says why). */
export const nodeRuntimeFlags = JSON.parse(readFileSync(join(repoRoot, 'apps/node/runtime-flags.json'), 'utf8')).flags;

export function buildNodeApp({ log = () => {} } = {}) {
  const tsconfig = 'apps/node/tsconfig.app.json';
  log('Building apps/node ...');
  for (const [tool, ...args] of [['tsc', '-p', tsconfig], ['tsc-alias', '-p', tsconfig]]) {
    const result = spawnSync(join(repoRoot, 'node_modules/.bin', tool), args, { cwd: repoRoot, stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed`);
  }
  return nodeMain;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) buildNodeApp({ log: (l) => console.error(l) });
