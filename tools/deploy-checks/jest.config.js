// No globalSetup: these checks read files and run local tools (esbuild, kubectl, docker-compose); no servers.
module.exports = { ...require('../../jest.preset'), displayName: 'deploy-checks', rootDir: __dirname, testTimeout: 120_000 };
