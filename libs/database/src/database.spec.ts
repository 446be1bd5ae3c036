import { createSequelize, ensureDatabase, toSqlDateTime } from './database';
import { isCheckViolation, isDatabaseUnavailable, isDuplicateKey, isTransientConflict } from './errors';

describe('database helpers', () => {
  it('when a Date is formatted for SQL, then it keeps the milliseconds in UTC', () => {
    expect(toSqlDateTime(new Date('2026-11-24T01:02:03.045Z'))).toBe('2026-11-24 01:02:03.045');
  });

  it('when nothing listens on the port, then the connection error counts as unavailable', async () => {
    const db = createSequelize({ host: '127.0.0.1', port: 1, user: 'u', password: 'p', database: 'd' }, { max: 1, acquireTimeoutMs: 2000 });
    const error = await db.authenticate().catch((e: unknown) => e);
    await db.close();
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(isDuplicateKey(error)).toBe(false);
  });

  it('when a database name is unsafe, then it is refused before any connection', async () => {
    await expect(ensureDatabase({ host: '127.0.0.1', port: 1, user: 'u', password: 'p', database: 'x`; DROP' })).rejects.toThrow(/unsafe database name/);
  });

  it('when MySQL reports a duplicate key or a deadlock, then each is classified as such', () => {
    expect(isDuplicateKey({ name: 'SequelizeUniqueConstraintError' })).toBe(true);
    expect(isDuplicateKey({ parent: { code: 'ER_DUP_ENTRY' } })).toBe(true);
    expect(isTransientConflict({ parent: { code: 'ER_LOCK_DEADLOCK' } })).toBe(true);
    expect(isTransientConflict({ parent: { code: 'ER_DUP_ENTRY' } })).toBe(false);
    expect(isDatabaseUnavailable(new Error('syntax error'))).toBe(false);
  });

  it('when MariaDB or MySQL 8 report a failed CHECK constraint, then it is classified as such, by number (mysql2 names 4025 after a MySQL error)', () => {
    expect(isCheckViolation({ errno: 4025, code: 'ER_INNODB_AUTOEXTEND_SIZE_OUT_OF_RANGE' })).toBe(true);
    expect(isCheckViolation({ errno: 3819 })).toBe(true);
    expect(isCheckViolation({ errno: 1062, code: 'ER_DUP_ENTRY' })).toBe(false);
    expect(isCheckViolation(new Error('syntax error'))).toBe(false);
  });
});
