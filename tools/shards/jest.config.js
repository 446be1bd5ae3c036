// The unit specs beside the code need no servers; test/*.spec.ts move buckets between databases on the
// test stack (started here unless ORDERFLOW_TEST_STACK=external, as `npm test` sets). The global setup
// also migrates one order shard and one read shard with the services' own migrations (by starting
// order-command and order-query on them): every test's shards are cloned from those.
module.exports = require('../jest/stack-project')(__dirname, 'shards', { testTimeout: 180_000 });
