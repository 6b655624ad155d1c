import nx from '@nx/eslint-plugin';

/**
 * Module boundaries: apps compose, the runtime wires features, features use the event store and
 * platform, and contracts depend on nothing of ours. Scopes keep one service from reaching into
 * another; they talk through contracts (events) only.
 */
const typeRules = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:runtime', 'type:feature', 'type:util', 'type:contracts'] },
  {
    sourceTag: 'type:runtime',
    onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:util', 'type:contracts'],
  },
  // A feature may use another feature's exported access module, as its scope rule allows.
  { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:util', 'type:contracts'] },
  { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:util', 'type:contracts'] },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:contracts'] },
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'] },
  // The test kit depends on contracts only, so every lib's tests can use it without a cycle.
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts'] },
];
// Which service may use which. The gateway (every client route) uses the services' access
// modules; queries belong to sessions and run on an engine (libs/drivers); the driver service runs
// queries and hands their rows to results; results read queries; queries and results ask
// membership where a node is, and every service that reacts to a node's end (takeover, lost
// results, abandoned engine work) hears it from membership; the gateway's gRPC API reads the
// cluster view from membership and knows the engines' refusals. Nothing depends on the gateway or the
// driver service, and query knows nothing of results (they write it through QueryCommands).
const scopeUses = {
  session: [],
  engine: [],
  query: ['session', 'engine', 'membership'],
  result: ['query', 'session', 'engine', 'membership'],
  driver: ['query', 'session', 'result', 'engine', 'membership'],
  gateway: ['session', 'query', 'result', 'membership', 'engine'],
  membership: [],
};
const scopeRules = Object.entries(scopeUses).map(([scope, uses]) => ({
  sourceTag: `scope:${scope}`,
  onlyDependOnLibsWithTags: ['scope:shared', `scope:${scope}`, ...uses.map((u) => `scope:${u}`)],
}));

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/.cache', 'tmp/**'] },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [...typeRules, ...scopeRules],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests (and the helpers beside them in e2e/) may use the testing lib and reach across scopes.
    files: ['**/*.spec.ts', '**/e2e/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
];
