const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  displayName: 'gateway',
  rootDir: __dirname,
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 120_000,
  // content-disposition 3 (under @fastify/static) and json-schema-ref-parser (openapi-backend loads it with
  // a dynamic import(), in test/openapi-contract.ts) ship ESM only; Jest's CommonJS loader needs them compiled.
  transform: {
    ...preset.transform,
    '/node_modules/(content-disposition|@apidevtools/json-schema-ref-parser|openapi-backend)/.+\\.js$': ['@swc/jest', { module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(content-disposition|@apidevtools/json-schema-ref-parser|openapi-backend)/)'],
};
