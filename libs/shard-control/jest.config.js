module.exports = require('../../tools/jest/stack-project')(__dirname, 'shard-control', { testTimeout: 60_000 });
