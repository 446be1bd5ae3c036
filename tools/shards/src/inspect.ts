import { formatRange } from './map-math';
import { MoveTable, type MoveRecord } from './move-record';
import type { MapWatcher, ShardSet } from './shard-set';
import { rowsPerBucket } from './sql';
import { MAIN_TABLE } from './tables';

export interface ShardStatus {
  shard: number;
  label: string;
  buckets: number;
  ranges: string;
  /** Rows of the set's main table (orders, order_views); undefined when the shard is not migrated. */
  rows?: number;
  /** The shard's own view of its buckets (shard_buckets): how many OWNED, FENCED, MOVED. */
  states: Record<string, number>;
}

export interface SetStatus {
  version: number;
  shards: ShardStatus[];
  watchers: MapWatcher[];
  active?: MoveRecord;
  latest?: MoveRecord;
}

export async function setStatus(set: ShardSet): Promise<SetStatus> {
  const { version, map } = await set.readMap();
  const ranges = map.ranges();
  const shards = await Promise.all(
    set.pools.map(async (pool, shard) => {
      const own = ranges.filter((r) => r.shard === shard);
      const rows = await pool
        .select<{ n: string }>(`SELECT COUNT(*) AS n FROM \`${MAIN_TABLE[set.name]}\``)
        .then((r) => Number(r[0]?.n))
        .catch(() => undefined);
      const states = await pool
        .select<{ state: string; n: string }>('SELECT state, COUNT(*) AS n FROM shard_buckets GROUP BY state ORDER BY state')
        .then((r) => Object.fromEntries(r.map((row) => [row.state, Number(row.n)])))
        .catch(() => ({}));
      return {
        shard,
        label: set.label(shard),
        states,
        buckets: own.reduce((n, r) => n + r.to - r.from + 1, 0),
        ranges: own.map((r) => formatRange({ first: r.from, last: r.to })).join(',') || '(none)',
        rows,
      };
    }),
  );
  const moves = new MoveTable(set.control);
  return { version, shards, watchers: await set.watchers(), active: await moves.active(), latest: await moves.latest() };
}

/** Rows that lie on a shard the map does not give their bucket to. */
export interface Orphan {
  shard: number;
  table: string;
  bucket: number;
  owner: number;
  rows: number;
  /** One order id among them. */
  sample: string;
}

/**
 * Every row of every table on the shard that owns its bucket? Rows of an active move's buckets on its
 * source and target are the move's (copies, or the source's rows until cleanup) and not reported.
 */
export async function findOrphans(set: ShardSet, active?: MoveRecord): Promise<Orphan[]> {
  const { map } = await set.readMap();
  const orphans: Orphan[] = [];
  const inMove = (shard: number, bucket: number) =>
    active !== undefined && bucket >= active.range.first && bucket <= active.range.last && (shard === active.source || shard === active.target);
  for (let shard = 0; shard < set.pools.length; shard++) {
    for (const table of set.tables) {
      const rows = await set
        .pool(shard)
        .select<{ bucket: number; row_count: string; sample: string }>(rowsPerBucket(table).sql)
        .catch((error: unknown) => {
          if ((error as { code?: string }).code === 'ER_NO_SUCH_TABLE') return [];
          throw error;
        });
      for (const r of rows) {
        const bucket = Number(r.bucket);
        const owner = map.shardForBucket(bucket);
        if (owner !== shard && !inMove(shard, bucket)) orphans.push({ shard, table: table.name, bucket, owner, rows: Number(r.row_count), sample: r.sample });
      }
    }
  }
  return orphans;
}
