module.exports = { ...require('../../jest.preset'), displayName: 'service-kit', rootDir: __dirname };
