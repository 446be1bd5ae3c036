module.exports = require('../../tools/jest/stack-project')(__dirname, 'stack');
