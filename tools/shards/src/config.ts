import type { MysqlTarget } from '@orderflow/database';
import { env, readEnv } from '@orderflow/service-kit';
import { DEV_ORDER_SHARDS, DEV_READ_SHARDS } from '@orderflow/sharding';
import type { ShardSetName } from './tables';

/**
 * The shards of both sets, from the variables the services read (ORDER_SHARDS and READ_SHARDS, with their
 * users and passwords) and with the same dev defaults, so `npm run shards` beside `npm start` needs none.
 */
export function loadShardSets(source: NodeJS.ProcessEnv = process.env): Record<ShardSetName, MysqlTarget[]> {
  const e = readEnv(
    {
      ORDER_SHARDS: env.shardList(DEV_ORDER_SHARDS),
      ORDER_MYSQL_USER: env.string('orderflow'),
      ORDER_MYSQL_PASSWORD: env.string('orderflow'),
      READ_SHARDS: env.shardList(DEV_READ_SHARDS),
      READ_MYSQL_USER: env.string('orderflow'),
      READ_MYSQL_PASSWORD: env.string('orderflow'),
    },
    source,
  );
  return {
    orders: e.ORDER_SHARDS.map((s) => ({ ...s, user: e.ORDER_MYSQL_USER, password: e.ORDER_MYSQL_PASSWORD })),
    reads: e.READ_SHARDS.map((s) => ({ ...s, user: e.READ_MYSQL_USER, password: e.READ_MYSQL_PASSWORD })),
  };
}
