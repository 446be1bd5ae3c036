module.exports = { ...require('../../jest.preset'), displayName: 'shard-control', rootDir: __dirname };
