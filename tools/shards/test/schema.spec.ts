import mysql from 'mysql2/promise';
import { testStack } from '@orderflow/stack';
import { copiedColumns, NOT_ORDER_DATA, SHARD_SETS, TABLES, type ShardSetName } from '../src';
import { templateOf } from './app-schemas';

async function schemaOf(set: ShardSetName) {
  const template = templateOf(set);
  const { user, password } = testStack.info().mysql[0]!;
  const connection = await mysql.createConnection({ ...template, user, password });
  try {
    const query = async (sql: string) => (await connection.query<mysql.RowDataPacket[]>(sql, [template.database]))[0];
    const tables = await query(
      `SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`,
    );
    const columns = await query(
      `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, EXTRA AS extra FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`,
    );
    const keys = await query(
      `SELECT TABLE_NAME AS t, INDEX_NAME AS k, NON_UNIQUE AS non_unique, COLUMN_NAME AS c FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
    );
    const columnsOf = (table: string) => columns.filter((r) => r.t === table).map((r) => r.c as string);
    const uniqueKeys = (table: string) => {
      const byName = new Map<string, string[]>();
      for (const r of keys.filter((k) => k.t === table && Number(k.non_unique) === 0))
        byName.set(r.k as string, [...(byName.get(r.k as string) ?? []), r.c as string]);
      return byName;
    };
    return {
      tables: tables.map((r) => r.t as string),
      columnsOf,
      uniqueKeys,
      extraOf: (table: string, column: string) => columns.find((r) => r.t === table && r.c === column)?.extra,
    };
  } finally {
    await connection.end();
  }
}

describe('the tables a move carries, against the schema the services migrate', () => {
  it.each(SHARD_SETS)(
    'when the %s shards are migrated by their service, then every table holding order data is moved, with every column and its primary key',
    async (set) => {
      const schema = await schemaOf(set);
      // A new table must be added to TABLES (or, if it holds no order's data, to NOT_ORDER_DATA).
      expect(schema.tables.filter((t) => !NOT_ORDER_DATA.includes(t)).sort()).toEqual(TABLES[set].map((t) => t.name).sort());
      for (const table of TABLES[set]) {
        expect({ table: table.name, columns: schema.columnsOf(table.name) }).toEqual({ table: table.name, columns: table.columns });
        expect({ table: table.name, primaryKey: schema.uniqueKeys(table.name).get('PRIMARY') }).toEqual({ table: table.name, primaryKey: table.primaryKey });
        expect(table.columns).toContain(table.orderIdColumn);
        for (const column of table.notCopied ?? []) {
          // A column left out must be one the target fills itself, and the rows must stay unique without it (the upsert's key).
          expect({ table: table.name, column, extra: schema.extraOf(table.name, column) }).toEqual({ table: table.name, column, extra: 'auto_increment' });
          const copied = copiedColumns(table);
          expect([...schema.uniqueKeys(table.name).values()].some((key) => key.every((c) => copied.includes(c)))).toBe(true);
        }
      }
    },
  );
});
