// The unit specs beside the code need no servers; test/move-load.e2e.spec.ts starts its own stack (profile spare) and system.
module.exports = { ...require('../../jest.preset'), displayName: 'bench', rootDir: __dirname, testTimeout: 120_000 };
