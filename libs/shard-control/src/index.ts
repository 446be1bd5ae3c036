export { FENCE_LIST_MESSAGE, FENCE_MESSAGE, fenceManyMigration, heldBucketCondition, shardControlMigration } from './schema';
export { BucketMovingError, fenceManyStatement, fenceStatement, isFenceRejection, writeFenced } from './fence';
export type { FencedRoute, FencedWriteOptions } from './fence';
export { LiveShardMap } from './live-shard-map';
export type { LiveShardMapOptions, ShardMapView } from './live-shard-map';
