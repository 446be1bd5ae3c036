export {
  ORDER_ID_EPOCH_MS,
  BUCKET_COUNT,
  MAX_SEQUENCE,
  MAX_ORDER_ID,
  MAX_ORDER_ID_TIMESTAMP_MS,
  InvalidOrderIdError,
  parseOrderId,
  isValidOrderId,
  decodeOrderId,
  encodeOrderId,
  bucketOfOrderId,
} from './order-id';
export type { OrderIdParts } from './order-id';
export { OrderIdGenerator } from './order-id-generator';
export type { Clock } from './order-id-generator';
export { bucketForCustomer } from './bucket';
export { ShardMap, ShardMapError, parseShardMap, evenShardMap, shardMapFromConfig, bucketMoves } from './shard-map';
export type { BucketRange, BucketMove, ShardMapProblem, ShardMapProblemKind } from './shard-map';
export { ShardRouter } from './shard-router';
export { forEachShard, scatterGather, mergeSorted, ShardOperationError, UnsortedShardResultError } from './scatter-gather';
export type { ShardSet, ShardFailure, ScatterGatherOptions } from './scatter-gather';
export { DEV_ORDER_SHARDS, DEV_READ_SHARDS } from './dev-shards';
