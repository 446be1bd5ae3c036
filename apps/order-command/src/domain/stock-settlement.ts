import type { StockAction } from './model';
import type { InventoryPort, Log, OrderRepository } from './ports';

export interface StockSettlementDeps {
  repository: OrderRepository;
  inventory: InventoryPort;
  log: Log;
}

/**
 * Commit or Release what a stored change owes inventory, then mark it settled. On failure it is logged
 * and left owed: the settler retries (both calls are idempotent). True when settled.
 */
export function createStockSettlement({ repository, inventory, log }: StockSettlementDeps) {
  return async function settleStock(orderId: string, action: StockAction, reason: string): Promise<boolean> {
    try {
      if (action === 'COMMIT') await inventory.commit(orderId);
      else await inventory.release(orderId, reason);
      await repository.markStockSettled(orderId);
      return true;
    } catch (error) {
      log.warn({ err: error, orderId, action }, 'stock settlement failed; the settler will retry');
      return false;
    }
  };
}

export type SettleStock = ReturnType<typeof createStockSettlement>;
