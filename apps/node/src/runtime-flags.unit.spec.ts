import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_RUNTIME_FLAGS, REPO_ROOT } from '@quarry/testing';

describe('the node runtime flags (apps/node/runtime-flags.json)', () => {
  it('are V8/Node flags, and the Docker image starts the node with them, before its entry point', () => {
    expect(NODE_RUNTIME_FLAGS.length).toBeGreaterThan(0);
    for (const flag of NODE_RUNTIME_FLAGS) expect(flag).toMatch(/^--[a-z-]+(=\S+)?$/);
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(join(REPO_ROOT, 'docker/Dockerfile'), 'utf8'));
    expect(entrypoint).not.toBeNull();
    const command = JSON.parse(entrypoint![1]) as string[];
    expect(command).toEqual(['node', ...NODE_RUNTIME_FLAGS, 'dist/apps/node/src/main.js']);
  });
});
