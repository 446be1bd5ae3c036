import { fenceManyMigration } from '@orderflow/shard-control';

/** orderflow_fence_many: a group commit of placed orders fences all their buckets in one statement, not one CALL each. */
export const fenceMany = fenceManyMigration('0009-fence-many');
