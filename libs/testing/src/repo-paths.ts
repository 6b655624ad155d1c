import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The nearest folder above `from` that holds nx.json: the kit also runs compiled, from dist/ (npm run chaos). */
function repoRootAbove(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no nx.json above ${from}`);
  }
}

export const REPO_ROOT = repoRootAbove(__dirname);
/** Where `tsc -p apps/node/tsconfig.app.json` puts the node's entry point. */
export const NODE_MAIN = join(REPO_ROOT, 'dist/apps/node/apps/node/src/main.js');
/** The node flags every node process is started with, as `npm start` does (apps/node/runtime-flags.json says why). */
export const NODE_RUNTIME_FLAGS: string[] = (JSON.parse(readFileSync(join(REPO_ROOT, 'apps/node/runtime-flags.json'), 'utf8')) as { flags: string[] }).flags;
/** The projection rebuild command, built beside the node. */
export const REBUILD_SCRIPT = join(REPO_ROOT, 'dist/apps/node/apps/node/src/rebuild-projection.js');
/** Prints a users-file line for a user whose password comes on stdin. */
export const HASH_PASSWORD_SCRIPT = join(REPO_ROOT, 'dist/apps/node/apps/node/src/hash-password.js');
/** Prints, as JSON, the command that runs the balancer QUARRY_BALANCER chooses (HAProxy or tools/stack/balancer.mjs). */
export const BALANCER_COMMAND_SCRIPT = join(REPO_ROOT, 'tools/stack/balancer-command.mjs');
export const KAFKA_SCRIPT = join(REPO_ROOT, 'tools/stack/kafka.mjs');
