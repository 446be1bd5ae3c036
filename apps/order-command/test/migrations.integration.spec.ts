import { createSequelize, dropDatabase, ensureDatabase, migrate, Migration, migrationLockName } from '@orderflow/database';
import { testStack } from '@orderflow/stack';
import mysql from 'mysql2/promise';
import type { Sequelize } from 'sequelize';

describe('migrate (libs/database) on a real MariaDB: replicas starting together on an empty database', () => {
  const server = testStack.info().mysql[0]!;
  const target = { host: server.host, port: server.port, user: server.user, password: server.password, database: 'orderflow_migrate_test' };
  const opened: Sequelize[] = [];
  const open = () => {
    const db = createSequelize(target, { max: 1 });
    opened.push(db);
    return db;
  };
  /** Neither step can run twice: a second CREATE TABLE or INSERT of the same row fails. */
  const migrations: Migration[] = [
    {
      name: '0001-create-a',
      up: async (qi) => {
        await qi.sequelize.query('SELECT SLEEP(0.3)'); // wide enough for every replica to look before the first is done
        await qi.sequelize.query('CREATE TABLE a (id INT PRIMARY KEY)');
      },
      down: async (qi) => void (await qi.sequelize.query('DROP TABLE a')),
    },
    { name: '0002-row-one', up: async (qi) => void (await qi.sequelize.query('INSERT INTO a (id) VALUES (1)')), down: async () => undefined },
  ];
  const count = async (db: Sequelize, sql: string) => Number(((await db.query(sql))[0] as { n: number | string }[])[0]!.n);

  beforeEach(async () => {
    await dropDatabase(target);
    await ensureDatabase(target);
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.close()));
  });
  afterAll(() => dropDatabase(target));

  it('when four processes migrate the same database at once, then one applies each migration once and the others find them applied', async () => {
    const results = await Promise.all([1, 2, 3, 4].map(() => migrate(target, migrations)));

    expect(results.filter((applied) => applied.length > 0)).toEqual([['0001-create-a', '0002-row-one']]);
    expect(results.filter((applied) => applied.length === 0)).toHaveLength(3);
    const db = open();
    expect(await count(db, 'SELECT COUNT(*) AS n FROM schema_migrations')).toBe(2);
    expect(await count(db, 'SELECT COUNT(*) AS n FROM a')).toBe(1);
    expect(await migrate(target, migrations)).toEqual([]);
  });

  it('when another process holds the migration lock past the wait, then migrate fails with a clear error and applies nothing', async () => {
    const holder = await mysql.createConnection({ host: target.host, port: target.port, user: target.user, password: target.password });
    try {
      await holder.query('SELECT GET_LOCK(?, 0)', [migrationLockName(target.database)]);
      await expect(migrate(target, migrations, { lockWaitSeconds: 1 })).rejects.toThrow(
        `could not migrate database "orderflow_migrate_test": another process held the migration lock "orderflow.migrate.orderflow_migrate_test" for 1 s`,
      );
      expect(await count(open(), "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'orderflow_migrate_test'")).toBe(0);
    } finally {
      await holder.end();
    }
    expect(await migrate(target, migrations)).toEqual(['0001-create-a', '0002-row-one']);
  });
});
