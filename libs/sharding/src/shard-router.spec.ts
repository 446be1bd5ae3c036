import fc from 'fast-check';
import { bucketForCustomer } from './bucket';
import { BUCKET_COUNT, InvalidOrderIdError } from './order-id';
import { OrderIdGenerator } from './order-id-generator';
import { evenShardMap, parseShardMap } from './shard-map';
import { ShardRouter } from './shard-router';

describe('ShardRouter', () => {
  const router = new ShardRouter(parseShardMap('0-99:2,100-799:0,800-1023:1', 3));

  it('when a customer places an order, then the order id routes to the same shard as the customer', () => {
    const generator = new OrderIdGenerator(() => Date.UTC(2026, 0, 1));
    fc.assert(
      fc.property(fc.string(), (customerId) => {
        const bucket = router.bucketForCustomer(customerId);
        const orderId = generator.next(bucket);
        expect(bucket).toBe(bucketForCustomer(customerId));
        expect(router.shardForOrderId(orderId)).toBe(router.shardForCustomer(customerId));
        expect(router.shardForBucket(bucket)).toBe(router.shardForCustomer(customerId));
      }),
    );
  });

  it('when buckets are looked up, then the map decides the shard', () => {
    expect([0, 99, 100, 799, 800, 1023].map((b) => router.shardForBucket(b))).toEqual([2, 2, 0, 0, 1, 1]);
  });

  it('when asked for its shards, then it lists every index, even one holding no buckets', () => {
    expect(router.shards()).toEqual([0, 1, 2]);
    expect(new ShardRouter(parseShardMap('0-1023:0', 2)).shards()).toEqual([0, 1]);
  });

  it('when the order id is malformed, then routing throws InvalidOrderIdError', () => {
    expect(() => router.shardForOrderId('01')).toThrow(InvalidOrderIdError);
    expect(() => router.shardForOrderId('abc')).toThrow(InvalidOrderIdError);
  });

  it('when the bucket is out of range, then routing throws a RangeError', () => {
    expect(() => router.shardForBucket(BUCKET_COUNT)).toThrow(RangeError);
    expect(() => router.shardForBucket(-1)).toThrow(RangeError);
    expect(() => router.shardForBucket(0.5)).toThrow(RangeError);
  });

  it('when the map does not cover all 1024 order id buckets, then the router refuses it', () => {
    expect(() => new ShardRouter(evenShardMap(2, 512))).toThrow(RangeError);
  });
});
