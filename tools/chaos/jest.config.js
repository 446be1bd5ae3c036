// The unit specs beside the code need no servers; test/chaos.e2e.spec.ts runs a short chaos run on the
// test stack (started here unless ORDERFLOW_TEST_STACK=external, as `npm test` sets).
module.exports = require('../../tools/jest/stack-project')(__dirname, 'chaos', { testTimeout: 180_000 });
