import { bucketForCustomer } from './bucket';
import { BUCKET_COUNT, decodeOrderId } from './order-id';
import type { ShardMap } from './shard-map';

/**
 * The one routing rule for the command and the query side: customer -> bucket -> shard, and order id ->
 * its bucket bits -> shard. Routing an order id needs no look-up; a customer's orders share one shard.
 */
export class ShardRouter {
  private readonly shardIndexes: readonly number[];

  constructor(readonly shardMap: ShardMap) {
    if (shardMap.bucketCount !== BUCKET_COUNT) {
      throw new RangeError(`a router needs a map of all ${BUCKET_COUNT} order id buckets, got ${shardMap.bucketCount}`);
    }
    this.shardIndexes = Object.freeze(Array.from({ length: shardMap.shardCount }, (_, shard) => shard));
  }

  get shardCount(): number {
    return this.shardMap.shardCount;
  }

  /** Every shard index, 0..shardCount-1, including shards that hold no buckets yet (they still need migrations). */
  shards(): readonly number[] {
    return this.shardIndexes;
  }

  shardForBucket(bucket: number): number {
    return this.shardMap.shardForBucket(bucket);
  }

  /** Throws InvalidOrderIdError for a malformed id. */
  shardForOrderId(orderId: string): number {
    return this.shardMap.shardForBucket(decodeOrderId(orderId).bucket);
  }

  bucketForCustomer(customerId: string): number {
    return bucketForCustomer(customerId, BUCKET_COUNT);
  }

  shardForCustomer(customerId: string): number {
    return this.shardMap.shardForBucket(this.bucketForCustomer(customerId));
  }
}
