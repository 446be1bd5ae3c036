module.exports = { ...require('../../jest.preset'), displayName: 'stack', rootDir: __dirname };
