import { createSqlPool, ensureDatabase, migrate, type MysqlTarget, type SqlPool } from '@orderflow/database';
import type { Component } from '@orderflow/service-kit';
import { forEachShard, type ShardRouter } from '@orderflow/sharding';
import { ORDER_SHARD_MIGRATIONS } from './migrations';

export interface OrderShardsSettings {
  /** Connections per shard: the whole budget of this process on that shard (ADR 0008). */
  poolMax: number;
  /** Create the databases and apply the migrations at start. */
  migrateOnStart: boolean;
}

/**
 * The order shards: one mysql2 pool per shard, every query of this process goes through it (ADR 0008).
 * At start each shard is migrated (when configured) and must answer; at stop the pools close.
 */
export class OrderShards implements Component {
  readonly name = 'order-shards';
  /** In shard order. */
  readonly pools: SqlPool[];

  constructor(
    private readonly targets: MysqlTarget[],
    private readonly router: ShardRouter,
    private readonly settings: OrderShardsSettings,
  ) {
    this.pools = targets.map((target) => createSqlPool(target, { max: settings.poolMax }));
  }

  async start(): Promise<void> {
    await forEachShard(this.router, async (shard) => {
      const target = this.targets[shard] as MysqlTarget;
      if (this.settings.migrateOnStart) {
        await ensureDatabase(target);
        // Sequelize's QueryInterface, on a connection of its own that migrate() closes when done.
        await migrate(target, ORDER_SHARD_MIGRATIONS);
      }
      await (this.pools[shard] as SqlPool).ping();
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.end()));
  }
}
