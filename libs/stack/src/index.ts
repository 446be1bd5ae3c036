export { startStack, stopStack, stackStatus, stackInfo, stackDir } from './stack';
export type { StackInfo, StackOptions, MysqlEndpoint } from './stack';
export { stackCli } from './cli';
export { workspaceRoot } from './workspace';
export { PROFILES, MYSQL_USER, MYSQL_PASSWORD } from './profiles';
export { testStack, TEST_REDIS_COUNT } from './test-stack';
export { TcpProxy } from './tcp-proxy';
