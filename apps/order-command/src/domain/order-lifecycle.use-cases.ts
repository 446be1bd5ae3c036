import { createCancelOrder } from './cancel-order.use-case';
import { createGetOrder, createGetOrderHistory } from './get-order.use-cases';
import { createOrderChange } from './order-change';
import { createOrderSweeps } from './order-sweeps.use-cases';
import { createPayOrder } from './pay-order.use-case';
import type { OrderUseCaseDeps } from './ports';
import { createShipOrder } from './ship-order.use-case';
import { createStockSettlement } from './stock-settlement';

export interface OrderLifecycleDeps extends OrderUseCaseDeps {
  /** A placement still PENDING after this long is given up (its process died mid-way). */
  pendingTimeoutMs: number;
  /** Owed Commit/Release older than this are retried by the settler. */
  settleAfterMs: number;
}

/** The use cases after placement: get, history, pay, cancel, ship; and the sweeps (expiry, abandoned placements, owed settlements). */
export function createOrderLifecycle({ repository, inventory, ids, clock, outbox, log, pendingTimeoutMs, settleAfterMs }: OrderLifecycleDeps) {
  const settleStock = createStockSettlement({ repository, inventory, log });
  const getOrder = createGetOrder({ repository, ids });
  const changeOrder = createOrderChange({ repository, clock, outbox, getOrder, settleStock });
  return {
    getOrder,
    getOrderHistory: createGetOrderHistory({ repository, getOrder }),
    payOrder: createPayOrder({ inventory, changeOrder }),
    cancelOrder: createCancelOrder({ changeOrder }),
    shipOrder: createShipOrder({ changeOrder }),
    ...createOrderSweeps({ repository, clock, log, changeOrder, settleStock, pendingTimeoutMs, settleAfterMs }),
  };
}

export type OrderLifecycle = ReturnType<typeof createOrderLifecycle>;
