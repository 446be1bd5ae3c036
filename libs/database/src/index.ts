export { createSequelize, ensureDatabase, dropDatabase, toSqlDateTime } from './database';
export type { MysqlTarget, PoolOptions } from './database';
export { isCheckViolation, isDatabaseUnavailable, isDuplicateKey, isSignalled, isTransientConflict } from './errors';
export { migrate, migrationLockName } from './migrations';
export type { MigrateOptions, Migration } from './migrations';
export { affectedRows, createSqlPool, rowsOf, SqlPool, SqlTransaction } from './sql';
export { GroupCommitter } from './group-commit';
export type { Statement, StatementResult } from './sql';
