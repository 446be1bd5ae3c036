module.exports = require('../../tools/jest/stack-project')(__dirname, 'order-command');
