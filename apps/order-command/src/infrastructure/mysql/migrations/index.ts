import type { Migration } from '@orderflow/database';
import { shardControlMigration } from '@orderflow/shard-control';
import { createOrderShard } from './0001-create-order-shard';
import { addOutboxTraceparent } from './0002-outbox-traceparent';
import { addOrderHistoryActor } from './0003-order-history-actor';
import { widenPaymentMethod } from './0004-payment-method-text';
import { addPurgeIndexes } from './0005-purge-indexes';
import { addClaimOwner } from './0006-claim-owner';
import { addOrderIdIndexes } from './0008-order-id-indexes';
import { fenceMany } from './0009-fence-many';

/** Every order-shard migration, applied in name order on every shard. Add new ones here. */
export const ORDER_SHARD_MIGRATIONS: Migration[] = [
  createOrderShard,
  addOutboxTraceparent,
  addOrderHistoryActor,
  widenPaymentMethod,
  addPurgeIndexes,
  addClaimOwner,
  // The live map's fence and control tables (ADR 0009): the same on every shard, the control tables used on shard 0.
  shardControlMigration('0007-shard-control'),
  addOrderIdIndexes,
  fenceMany,
];
