import { shardControlMigration } from '@orderflow/shard-control';

/** The live read-shard map, the fence and the move's control tables (ADR 0009), as on the order shards. */
export const shardControl = shardControlMigration('0003-shard-control');
