import { isSignalled, type Statement } from '@orderflow/database';
import { FENCE_MESSAGE } from './schema';
import type { LiveShardMap } from './live-shard-map';

/** Where a write to one bucket goes, at the map version it was routed with, and the statement that checks it there. */
export interface FencedRoute {
  shard: number;
  version: number;
  /** The first statement of the write's transaction (after BEGIN): refuses unless the shard owns the bucket at `version`. */
  fence: Statement;
}

export const fenceStatement = (bucket: number, version: number): Statement => ({ sql: 'CALL orderflow_fence(?, ?)', values: [bucket, version] });

/**
 * One statement that fences every bucket of a write to several of them (`orderflow_fence_many`, a
 * migration of its own: fenceManyMigration): refuses unless the shard owns each at `version`.
 */
export function fenceManyStatement(buckets: readonly number[], version: number): Statement {
  if (buckets.length === 0) throw new Error('fenceManyStatement: no buckets');
  for (const bucket of buckets) if (!Number.isInteger(bucket) || bucket < 0 || bucket > 65_535) throw new Error(`fenceManyStatement: bad bucket ${bucket}`);
  return { sql: 'CALL orderflow_fence_many(?, ?)', values: [JSON.stringify([...new Set(buckets)].sort((a, b) => a - b)), version] };
}

/** Whether a write was refused by a shard's fence (ADR 0009): it did nothing, and may be routed again. */
export function isFenceRejection(error: unknown): boolean {
  return isSignalled(error) && String((error as { message?: unknown }).message ?? '').startsWith(FENCE_MESSAGE);
}

/** A bucket's writes stayed fenced for longer than the caller may wait (a move's switch overran, or its mover died fenced). */
export class BucketMovingError extends Error {
  constructor(
    readonly bucket: number,
    readonly waitedMs: number,
  ) {
    super(`bucket ${bucket} is being moved between shards: its writes stayed fenced for ${waitedMs} ms`);
    this.name = 'BucketMovingError';
  }
}

export interface FencedWriteOptions {
  /** How long a write may wait for a switch to finish (capped by the caller's deadline). */
  maxWaitMs: number;
  /** Called on each refusal (a metric). */
  onFenced?: () => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs one write to `bucket` on the shard the live map names, with the fence first in its transaction. When
 * the fence refuses (the map this process holds is stale, or a move is switching the bucket), nothing was
 * written: the map is read again and the write runs where it now says, waiting out a switch for at most
 * `maxWaitMs`. `work` must be a whole transaction: it runs again from the start.
 */
export async function writeFenced<T>(map: LiveShardMap, bucket: number, work: (route: FencedRoute) => Promise<T>, options: FencedWriteOptions): Promise<T> {
  const started = Date.now();
  let pause = 5;
  for (;;) {
    const { version, router } = map.current;
    try {
      return await work({ shard: router.shardForBucket(bucket), version, fence: fenceStatement(bucket, version) });
    } catch (error) {
      if (!isFenceRejection(error)) throw error;
      options.onFenced?.();
      // A newer map routes the write at once; the same map means a switch is under way: wait for its end.
      if ((await map.refresh()).version !== version) continue;
      const waited = Date.now() - started;
      if (waited >= options.maxWaitMs) throw new BucketMovingError(bucket, waited);
      await sleep(Math.min(pause, options.maxWaitMs - waited));
      pause = Math.min(pause * 2, 100);
    }
  }
}
