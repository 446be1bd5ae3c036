const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  displayName: 'gateway',
  rootDir: __dirname,
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 120_000,
  // content-disposition 3 (under @fastify/static) ships ESM only; Jest's CommonJS loader needs it compiled.
  transform: { ...preset.transform, '/node_modules/content-disposition/.+\\.js$': ['@swc/jest', { module: { type: 'commonjs' } }] },
  transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
};
