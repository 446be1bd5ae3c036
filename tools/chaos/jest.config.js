// The unit specs beside the code need no servers; test/chaos.e2e.spec.ts runs a short chaos run on the
// test stack (started here unless ORDERFLOW_TEST_STACK=external, as `npm test` sets).
module.exports = {
  ...require('../../jest.preset'),
  displayName: 'chaos',
  rootDir: __dirname,
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 180_000,
};
