import { fenceManyMigration } from '@orderflow/shard-control';

/** orderflow_fence_many: a projection batch over several buckets fences them all in one statement, not one CALL each. */
export const fenceMany = fenceManyMigration('0005-fence-many');
