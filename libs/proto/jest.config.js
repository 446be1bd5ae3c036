module.exports = { ...require('../../jest.preset'), displayName: 'proto', rootDir: __dirname };
