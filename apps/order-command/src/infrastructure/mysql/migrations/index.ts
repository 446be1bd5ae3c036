import type { Migration } from '@orderflow/database';
import { createOrderShard } from './0001-create-order-shard';
import { addOutboxTraceparent } from './0002-outbox-traceparent';
import { addOrderHistoryActor } from './0003-order-history-actor';
import { widenPaymentMethod } from './0004-payment-method-text';
import { addPurgeIndexes } from './0005-purge-indexes';
import { addClaimOwner } from './0006-claim-owner';

/** Every order-shard migration, applied in name order on every shard. Add new ones here. */
export const ORDER_SHARD_MIGRATIONS: Migration[] = [
  createOrderShard,
  addOutboxTraceparent,
  addOrderHistoryActor,
  widenPaymentMethod,
  addPurgeIndexes,
  addClaimOwner,
];
