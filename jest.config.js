// One Jest project per kind of test, told apart by file name (see docs/testing.md):
//   *.unit.spec.ts  pure logic, no I/O
//   *.int.spec.ts   real PostgreSQL and Kafka
//   *.e2e.spec.ts   node processes behind the balancer
const { pathsToModuleNameMapper } = require('./tools/test/paths-to-module-name-mapper');

const longTimeout = '<rootDir>/tools/test/long-timeout.js';
const deleteTestTopics = '<rootDir>/tools/test/delete-test-topics.ts';

const shared = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: pathsToModuleNameMapper(),
  roots: ['<rootDir>/libs', '<rootDir>/apps'],
};

module.exports = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['**/*.unit.spec.ts'] },
    { ...shared, displayName: 'int', testMatch: ['**/*.int.spec.ts'], setupFilesAfterEnv: [longTimeout, deleteTestTopics], slowTestThreshold: 30 },
    { ...shared, displayName: 'e2e', testMatch: ['**/*.e2e.spec.ts'], setupFilesAfterEnv: [longTimeout, deleteTestTopics], slowTestThreshold: 60 },
  ],
};
