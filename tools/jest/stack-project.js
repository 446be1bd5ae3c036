// The Jest config of a project tested against the test stack: the shared preset, and the stack set up once
// before the run and left as it was after it (the project's test/global-setup.ts and test/global-teardown.ts).
const preset = require('../../jest.preset');

/** `rootDir` is the project's folder (its jest.config.js's __dirname); `displayName` names it in the output. */
module.exports = function stackProject(rootDir, displayName, { testTimeout = 120_000 } = {}) {
  return {
    ...preset,
    displayName,
    rootDir,
    globalSetup: '<rootDir>/test/global-setup.ts',
    globalTeardown: '<rootDir>/test/global-teardown.ts',
    testTimeout,
  };
};
