import type { QueryInterface, Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';

export interface Migration {
  /** Sortable and unique: "0001-create-products". */
  name: string;
  up(queryInterface: QueryInterface): Promise<void>;
  down(queryInterface: QueryInterface): Promise<void>;
}

/** Applies the migrations not applied yet, in name order; returns the names applied now. */
export async function migrate(sequelize: Sequelize, migrations: Migration[]): Promise<string[]> {
  const umzug = new Umzug({
    migrations: [...migrations]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((m) => ({ name: m.name, up: () => m.up(sequelize.getQueryInterface()), down: () => m.down(sequelize.getQueryInterface()) })),
    storage: new SequelizeStorage({ sequelize, tableName: 'schema_migrations' }),
    logger: undefined,
  });
  const applied = await umzug.up();
  return applied.map((m) => m.name);
}
