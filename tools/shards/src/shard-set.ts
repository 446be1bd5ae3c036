import { createSqlPool, type MysqlTarget, type SqlPool } from '@orderflow/database';
import { parseShardMap, type ShardMap } from '@orderflow/sharding';
import { TABLES, type ShardSetName, type TableSpec } from './tables';

/** The live map of a set as stored on its shard 0 (ADR 0009). */
export interface StoredMap {
  version: number;
  map: ShardMap;
}

/** A watcher of the map: a process that routes by it, and the version it last reported. */
export interface MapWatcher {
  instance: string;
  version: number;
  seenAgoMs: number;
}

/** Thrown for anything the operator asked that cannot be done as asked: printed as is, exit code 2. */
export class MoveRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MoveRefusedError';
  }
}

/** One pool per shard of a set; shard 0 holds the control tables. */
export class ShardSet {
  readonly pools: SqlPool[];
  readonly tables: readonly TableSpec[];

  constructor(
    readonly name: ShardSetName,
    readonly targets: readonly MysqlTarget[],
    poolMax = 4,
  ) {
    if (targets.length === 0) throw new Error(`the ${name} set lists no shards`);
    this.pools = targets.map((target) => createSqlPool(target, { max: poolMax }));
    this.tables = TABLES[name];
  }

  get control(): SqlPool {
    return this.pools[0] as SqlPool;
  }

  pool(shard: number): SqlPool {
    const pool = this.pools[shard];
    if (!pool) throw new MoveRefusedError(`shard ${shard} is not in the ${this.name} set's list (0..${this.pools.length - 1}: ${this.describeShards()})`);
    return pool;
  }

  label(shard: number): string {
    const t = this.targets[shard];
    return t ? `${shard} (${t.host}:${t.port}/${t.database})` : String(shard);
  }

  describeShards(): string {
    return this.targets.map((t, i) => `${i}=${t.host}:${t.port}/${t.database}`).join(', ');
  }

  /** The map on shard 0; a set no service has started on yet has none. */
  async readMap(): Promise<StoredMap> {
    const rows = await this.control
      .select<{ version: string; spec: string }>('SELECT CAST(version AS CHAR) AS version, spec FROM shard_map WHERE id = 1')
      .catch((error: unknown) => {
        if ((error as { code?: string }).code === 'ER_NO_SUCH_TABLE') return [];
        throw error;
      });
    const row = rows[0];
    if (!row) {
      throw new MoveRefusedError(
        `the ${this.name} set has no live map yet (no shard_map row on ${this.label(0)}): start the services once on these shards, they write it`,
      );
    }
    return { version: Number(row.version), map: parseShardMap(row.spec, this.pools.length) };
  }

  async watchers(): Promise<MapWatcher[]> {
    const rows = await this.control.select<{ instance: string; version: string; ago: string }>(
      `SELECT instance, CAST(version AS CHAR) AS version, CAST(TIMESTAMPDIFF(MICROSECOND, seen_at, NOW(3)) DIV 1000 AS CHAR) AS ago
       FROM shard_map_watchers ORDER BY instance`,
    );
    return rows.map((r) => ({ instance: r.instance, version: Number(r.version), seenAgoMs: Number(r.ago) }));
  }

  /** The tables of this set a shard lacks (a shard the services never migrated). */
  async missingTables(shard: number): Promise<string[]> {
    const rows = await this.pool(shard).select<{ name: string }>('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()');
    const present = new Set(rows.map((r) => r.name));
    return [...this.tables.map((t) => t.name), 'shard_buckets', 'shard_changes'].filter((name) => !present.has(name));
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.end().catch(() => undefined)));
  }
}
