/** Anything that can list its shards; a ShardRouter is one. */
export interface ShardSet {
  shards(): readonly number[];
}

export interface ShardFailure {
  shard: number;
  error: unknown;
}

/** One or more shards failed; `failures` names each one with its error. */
export class ShardOperationError extends AggregateError {
  constructor(
    readonly failures: ShardFailure[],
    readonly shardCount: number,
  ) {
    super(
      failures.map((f) => f.error),
      `${failures.length} of ${shardCount} shards failed: ${failures.map((f) => `shard ${f.shard} (${messageOf(f.error)})`).join(', ')}`,
    );
    this.name = 'ShardOperationError';
  }

  get failedShards(): number[] {
    return this.failures.map((f) => f.shard);
  }
}

/** A shard returned rows out of the order the merge was asked for (a missing ORDER BY, say). */
export class UnsortedShardResultError extends Error {
  constructor(
    readonly shard: number,
    readonly index: number,
  ) {
    super(`shard ${shard} returned rows out of order at position ${index}`);
    this.name = 'UnsortedShardResultError';
  }
}

/**
 * Runs `work` on every shard at once (migrations, say) and waits for all of them, so one failure does not
 * leave the others half-done and unreported. Results come back in shard order.
 */
export async function forEachShard<T>(shards: ShardSet, work: (shard: number) => Promise<T>): Promise<T[]> {
  const indexes = shards.shards();
  const settled = await Promise.allSettled(indexes.map(async (shard) => work(shard)));
  const failures: ShardFailure[] = [];
  const results: T[] = [];
  settled.forEach((outcome, i) => {
    if (outcome.status === 'fulfilled') results.push(outcome.value);
    else failures.push({ shard: indexes[i] as number, error: outcome.reason });
  });
  if (failures.length > 0) throw new ShardOperationError(failures, indexes.length);
  return results;
}

export interface ScatterGatherOptions<T> {
  /** The order each shard's rows are already in, and the order of the merged list. */
  compare: (a: T, b: T) => number;
  /** At most this many rows in all; also passed to each shard, which needs to return no more. */
  limit?: number;
}

/**
 * Asks every shard for its rows, each already sorted by `compare`, and merges them into one sorted list
 * of at most `limit` rows. Ties keep shard order, then each shard's own order, so the result equals a
 * stable sort of all rows concatenated in shard order. Any failing shard fails the whole query: an admin
 * listing that silently skips a shard would be wrong without anyone noticing.
 */
export async function scatterGather<T>(
  shards: ShardSet,
  query: (shard: number, options: { limit?: number }) => Promise<readonly T[]>,
  options: ScatterGatherOptions<T>,
): Promise<T[]> {
  const { compare, limit } = options;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new RangeError(`limit must be a non-negative integer, got ${String(limit)}`);
  }
  const indexes = shards.shards();
  const lists = await forEachShard(shards, (shard) => query(shard, limit === undefined ? {} : { limit }));
  lists.forEach((list, i) => checkSorted(list, compare, indexes[i] as number));
  return mergeSorted(lists, compare, limit ?? Infinity);
}

/**
 * k-way merge. Picks the smallest head by a linear scan over the lists: shard counts are small, so this
 * beats a heap in clarity and costs little.
 */
export function mergeSorted<T>(lists: readonly (readonly T[])[], compare: (a: T, b: T) => number, limit = Infinity): T[] {
  const positions = lists.map(() => 0);
  const merged: T[] = [];
  while (merged.length < limit) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      const list = lists[i] as readonly T[];
      const position = positions[i] as number;
      if (position >= list.length) continue;
      // Strictly smaller only, so on ties the earlier list wins.
      if (best === -1 || compare(list[position] as T, (lists[best] as readonly T[])[positions[best] as number] as T) < 0) best = i;
    }
    if (best === -1) break;
    merged.push((lists[best] as readonly T[])[positions[best] as number] as T);
    positions[best] = (positions[best] as number) + 1;
  }
  return merged;
}

function checkSorted<T>(list: readonly T[], compare: (a: T, b: T) => number, shard: number): void {
  for (let i = 1; i < list.length; i++) {
    if (compare(list[i - 1] as T, list[i] as T) > 0) throw new UnsortedShardResultError(shard, i);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
