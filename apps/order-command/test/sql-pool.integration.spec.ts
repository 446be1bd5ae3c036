import { testStack } from '@orderflow/stack';
import { affectedRows, createSqlPool, dropDatabase, ensureDatabase, isDuplicateKey, rowsOf, SqlPool } from '@orderflow/database';

describe('SqlPool (libs/database) on a real MariaDB (multi-statement round trips, transactions)', () => {
  const mysql = testStack.info().mysql[0]!;
  const target = { host: mysql.host, port: mysql.port, user: mysql.user, password: mysql.password, database: 'orderflow_sql_pool_test' };
  let pool: SqlPool;

  beforeAll(async () => {
    await dropDatabase(target);
    await ensureDatabase(target);
    pool = createSqlPool(target, { max: 4 });
    await pool.run([{ sql: 'CREATE TABLE t (id BIGINT PRIMARY KEY, n INT NOT NULL, at DATETIME(3) NULL)' }]);
  });
  afterAll(async () => {
    await pool?.end();
    await dropDatabase(target);
  });
  beforeEach(() => pool.run([{ sql: 'DELETE FROM t' }]));

  const count = async () => Number(rowsOf<{ n: string }>((await pool.run([{ sql: 'SELECT COUNT(*) AS n FROM t' }]))[0])[0]!.n);

  it('when several statements run in one round trip, then each has its own result, in order', async () => {
    const [insert, select, update] = await pool.run([
      { sql: 'INSERT INTO t (id, n) VALUES (?, ?), (?, ?)', values: [1, 10, 2, 20] },
      { sql: 'SELECT id, n FROM t ORDER BY id' },
      { sql: 'UPDATE t SET n = n + 1 WHERE id = ? AND n = ?', values: [1, 999] },
    ]);
    expect(affectedRows(insert)).toBe(2);
    expect(rowsOf(select)).toEqual([
      { id: '1', n: 10 },
      { id: '2', n: 20 },
    ]);
    expect(affectedRows(update)).toBe(0);
  });

  it('when a transaction commits with its last statements, then all of it is stored and the value returned', async () => {
    const result = await pool.transaction(async (tx) => {
      const [read] = await tx.run([{ sql: 'INSERT INTO t (id, n) VALUES (1, 1)' }, { sql: 'SELECT n FROM t WHERE id = 1' }]).then((r) => [r[1]]);
      await tx.commitWith([{ sql: 'INSERT INTO t (id, n, at) VALUES (?, ?, ?)', values: [2, 2, '2026-11-24 10:00:00.123'] }]);
      return rowsOf<{ n: number }>(read)[0]!.n;
    });
    expect(result).toBe(1);
    expect(await count()).toBe(2);
    const [row] = rowsOf<{ at: Date }>((await pool.run([{ sql: 'SELECT at FROM t WHERE id = 2' }]))[0]);
    expect(row!.at.toISOString()).toBe('2026-11-24T10:00:00.123Z');
  });

  it('when work returns without committing, then the transaction is committed for it', async () => {
    await pool.transaction((tx) => tx.run([{ sql: 'INSERT INTO t (id, n) VALUES (5, 5)' }]));
    expect(await count()).toBe(1);
  });

  it('when a statement fails in the middle of a round trip, then nothing of the transaction is stored and the connection is reusable', async () => {
    await pool.run([{ sql: 'INSERT INTO t (id, n) VALUES (1, 1)' }]);
    const attempt = pool.transaction((tx) =>
      tx.commitWith([
        { sql: 'INSERT INTO t (id, n) VALUES (2, 2)' },
        { sql: 'INSERT INTO t (id, n) VALUES (1, 1)' },
        { sql: 'INSERT INTO t (id, n) VALUES (3, 3)' },
      ]),
    );
    expect(isDuplicateKey(await attempt.catch((e: unknown) => e))).toBe(true);
    expect(await count()).toBe(1);
    // Every connection of the pool still works, and none is stuck in the failed transaction.
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => pool.transaction((tx) => tx.commitWith([{ sql: 'INSERT INTO t (id, n) VALUES (?, 0)', values: [100 + i] }]))),
    );
    expect(await count()).toBe(9);
  });

  it('when work throws after writing, then the writes are rolled back', async () => {
    await expect(
      pool.transaction(async (tx) => {
        await tx.run([{ sql: 'INSERT INTO t (id, n) VALUES (7, 7)' }]);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await count()).toBe(0);
  });

  it('when values carry SQL, then they are escaped, not run', async () => {
    await pool.run([{ sql: 'INSERT INTO t (id, n) VALUES (?, ?)', values: [1, 1] }]);
    await expect(pool.run([{ sql: 'SELECT * FROM t WHERE id = ?', values: ['1; DELETE FROM t'] }])).resolves.toBeDefined();
    expect(await count()).toBe(1);
  });
});
