import type { SqlPool } from '@orderflow/database';
import { parseShardMap, ShardMapError, ShardRouter } from '@orderflow/sharding';

/** The map a process routes with, and its version (the epoch each write is fenced at). */
export interface ShardMapView {
  readonly version: number;
  readonly router: ShardRouter;
}

export interface LiveShardMapOptions {
  /** This process, as the map's watchers list names it (unique per process). */
  instance: string;
  /** How often the map is read again, and this process's version reported (default 1000 ms). */
  pollMs?: number;
  log?: { warn(fields: object, message: string): void; info(fields: object, message: string): void };
}

interface MapRow {
  version: string;
  spec: string;
}

/**
 * The bucket map of one shard set (order shards, or read shards), live (ADR 0009). Its home is the control
 * table `shard_map` on shard 0 of the set. The first process to start on an empty set writes the map from
 * its configuration as version 1 and gives each shard its buckets (`shard_buckets`); later it only changes
 * through a move's switch. Every process reads it at start, again every `pollMs` and at once when a fence
 * refuses a write, and reports the version it holds (`shard_map_watchers`: a move's drain waits for every
 * live process to hold the new map).
 *
 * Writes do not trust this copy: each is fenced on its shard (fence.ts), so a stale map costs a retry,
 * never a write in the wrong place.
 */
export class LiveShardMap {
  readonly name = 'shard-map';
  private view: ShardMapView | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<ShardMapView> | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;
  private readonly listeners: ((view: ShardMapView) => void)[] = [];

  constructor(
    /** The set's pools in shard order; shard 0 holds the control tables. */
    private readonly pools: readonly SqlPool[],
    /** The map from configuration: written as version 1 on an empty set, never used after. */
    private readonly configured: ShardRouter,
    private readonly options: LiveShardMapOptions,
  ) {
    if (pools.length !== configured.shardCount) throw new Error(`${pools.length} shard pools for a map of ${configured.shardCount} shards`);
  }

  get current(): ShardMapView {
    if (!this.view) throw new Error('the shard map has not been read yet (start it first)');
    return this.view;
  }

  /** The version held, or undefined before the map was first read (a metric scraped during start). */
  get heldVersion(): number | undefined {
    return this.view?.version;
  }

  /** Called with each newer map this process takes. */
  onChange(listener: (view: ShardMapView) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    let row = await this.read();
    if (!row) {
      // The first writer wins; every process then gives the shards their buckets from the stored map, not
      // from its own configuration, so processes configured differently cannot give one bucket two owners.
      await this.control.run([
        { sql: `INSERT IGNORE INTO shard_map (id, version, spec, updated_at) VALUES (1, 1, ?, NOW(3))`, values: [this.configured.shardMap.toString()] },
      ]);
      row = (await this.read()) as MapRow;
    }
    const view = this.toView(row);
    if (view.version === 1) await this.seedOwners(view.router);
    const configured = this.configured.shardMap.toString();
    if (view.router.shardMap.toString() !== configured) {
      this.options.log?.info(
        { version: view.version, stored: view.router.shardMap.toString(), configured },
        'shard map: the stored map wins over the configured one',
      );
    }
    this.take(view);
    this.stopped = false;
    await this.report();
    this.timer = setInterval(() => {
      // One poll at a time: a slow control shard must not pile up reads.
      this.polling ??= this.poll().finally(() => (this.polling = undefined));
    }, this.options.pollMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    // A poll in flight could report this process again after it left the watchers.
    await this.polling;
    // Gone from the watchers, so a move's drain does not wait for this process.
    await this.control.run([{ sql: 'DELETE FROM shard_map_watchers WHERE instance = ?', values: [this.options.instance] }]).catch(() => undefined);
  }

  /** Reads the map again now (concurrent callers share one read) and takes it when newer. */
  refresh(): Promise<ShardMapView> {
    this.reading ??= this.read()
      .then((row) => {
        if (row) this.take(this.toView(row));
        return this.current;
      })
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }

  private get control(): SqlPool {
    return this.pools[0] as SqlPool;
  }

  private async poll(): Promise<void> {
    try {
      await this.refresh();
      if (!this.stopped) await this.report();
    } catch (error) {
      this.options.log?.warn({ err: error }, 'shard map: could not read the map; routing with the one held');
    }
  }

  private async read(): Promise<MapRow | undefined> {
    return (await this.control.select<MapRow>('SELECT CAST(version AS CHAR) AS version, spec FROM shard_map WHERE id = 1'))[0];
  }

  private async report(): Promise<void> {
    await this.control.run([
      {
        sql: `INSERT INTO shard_map_watchers (instance, version, seen_at) VALUES (?, ?, NOW(3))
              ON DUPLICATE KEY UPDATE version = VALUES(version), seen_at = VALUES(seen_at)`,
        values: [this.options.instance, this.current.version],
      },
    ]);
  }

  private toView(row: MapRow): ShardMapView {
    const version = Number(row.version);
    try {
      return { version, router: new ShardRouter(parseShardMap(row.spec, this.pools.length)) };
    } catch (error) {
      // Most likely a move gave buckets to a shard this process is not configured with.
      if (error instanceof ShardMapError && error.problems.some((p) => p.kind === 'shard-out-of-range')) {
        throw new Error(
          `the stored shard map (version ${version}: "${row.spec}") names a shard beyond the ${this.pools.length} configured: ` +
            `list every shard of the set, in order, and start again`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  private take(view: ShardMapView): void {
    if (this.view && view.version <= this.view.version) return;
    const previous = this.view?.version;
    this.view = view;
    if (previous !== undefined) this.options.log?.info({ from: previous, to: view.version }, 'shard map: took a newer version');
    for (const listener of this.listeners) listener(view);
  }

  /** Version 1's owners on every shard; idempotent, so a process that died half-way is finished by the next. */
  private async seedOwners(router: ShardRouter): Promise<void> {
    await Promise.all(
      router.shards().map(async (shard) => {
        const buckets = router.shardMap.ranges().filter((range) => range.shard === shard);
        const values = buckets.flatMap((range) => Array.from({ length: range.to - range.from + 1 }, (_, i) => range.from + i));
        if (values.length === 0) return;
        await (this.pools[shard] as SqlPool).run([
          {
            sql: `INSERT IGNORE INTO shard_buckets (bucket, epoch, state, updated_at) VALUES ${values.map(() => "(?, 1, 'OWNED', NOW(3))").join(', ')}`,
            values,
          },
        ]);
      }),
    );
  }
}
