module.exports = { ...require('../../jest.preset'), displayName: 'sharding', rootDir: __dirname };
