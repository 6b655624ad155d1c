// Where the stack tools live and where they keep downloaded jars, data dirs and pid files.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Absolute path of the monorepo root (two levels above tools/stack). */
export const repoRoot = resolve(here, '..', '..');

/** Cache for jars, broker data and local database clusters; git-ignored. Override with QUARRY_CACHE_DIR. */
export const cacheDir = process.env.QUARRY_CACHE_DIR
  ? resolve(process.env.QUARRY_CACHE_DIR)
  : resolve(repoRoot, '.cache');
