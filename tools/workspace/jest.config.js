module.exports = { ...require('../../jest.preset'), displayName: 'workspace', rootDir: __dirname };
