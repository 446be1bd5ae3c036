export { FENCE_MESSAGE, heldBucketCondition, shardControlMigration } from './schema';
export { BucketMovingError, fenceStatement, isFenceRejection, writeFenced } from './fence';
export type { FencedRoute, FencedWriteOptions } from './fence';
export { LiveShardMap } from './live-shard-map';
export type { LiveShardMapOptions, ShardMapView } from './live-shard-map';
