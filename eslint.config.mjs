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
  { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:data-access', 'type:util', 'type:contracts'] },
  { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:util', 'type:contracts'] },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:contracts'] },
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'] },
  // The test kit depends on contracts only, so every lib's tests can use it without a cycle.
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts'] },
];
const featureScopes = ['session', 'query', 'driver', 'result', 'gateway', 'membership'];
const scopeRules = featureScopes.map((scope) => ({
  sourceTag: `scope:${scope}`,
  onlyDependOnLibsWithTags: ['scope:shared', `scope:${scope}`],
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
    // Tests may use the testing lib and reach across scopes to drive whole flows.
    files: ['**/*.spec.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
];
