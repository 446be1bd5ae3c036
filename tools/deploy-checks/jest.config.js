// No servers: these checks read files and run local tools (esbuild, kubectl, docker-compose, promtool,
// a private prometheus). The global setup installs Debian's prometheus package when it is missing.
module.exports = {
  ...require('../../jest.preset'),
  displayName: 'deploy-checks',
  rootDir: __dirname,
  globalSetup: '<rootDir>/test/global-setup.ts',
  testTimeout: 120_000,
};
