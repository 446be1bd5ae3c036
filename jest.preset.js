// Shared Jest settings: SWC transpiles TypeScript (no type-check; `nx run-many -t typecheck` does that),
// workspace libs resolve to their sources, and a summary reporter feeds .ci/run its counts.
const path = require('node:path');

const root = __dirname;
const libs = ['proto', 'service-kit', 'database', 'sharding', 'shard-control', 'stack', 'messaging', 'telemetry'];

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: Object.fromEntries(libs.map((lib) => [`^@orderflow/${lib}$`, path.join(root, 'libs', lib, 'src', 'index.ts')])),
  reporters: ['default', path.join(root, 'tools', 'jest', 'summary-reporter.js')],
};
