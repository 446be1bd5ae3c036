import { createLogger } from '@orderflow/service-kit';
import type { Order, StockAction } from '../domain/model';
import { createOrderLifecycle } from '../domain/order-lifecycle.use-cases';
import type { InventoryPort, OrderRepository } from '../domain/ports';
import { OrderSweeper } from './order.sweeper';

const NOW = new Date(Date.UTC(2026, 0, 1, 12));

const reserved = (id: string): Order => ({
  id,
  customerId: 'c1',
  status: 'RESERVED',
  items: [{ productId: 'p', quantity: 1, unitPriceMinor: 100 }],
  totalMinor: 100,
  address: 'A',
  paymentMethod: 'card',
  version: 1,
  createdAt: new Date(NOW.getTime() - 3_600_000),
  updatedAt: new Date(NOW.getTime() - 3_600_000),
  expiresAt: new Date(NOW.getTime() - 1_000),
});

/**
 * The real lifecycle use cases and sweeper over in-memory fakes: three expired orders, three abandoned
 * placements and three owed settlements, with the middle one of each failing (its shard or inventory
 * down). The real repository and inventory are tested against real servers.
 */
function harness() {
  const orders = new Map(['e1', 'e2', 'e3'].map((id) => [id, reserved(id)]));
  const done: string[] = [];
  const warnings: object[] = [];
  const repository: Partial<OrderRepository> = {
    get: async (id) => orders.get(id),
    findExpired: async () => ['e1', 'e2', 'e3'],
    transition: async (id, spec) => {
      if (id === 'e2') throw new Error('shard 2 is unreachable');
      const after = { ...orders.get(id)!, status: spec.to, version: 2 };
      orders.set(id, after);
      done.push(`expired ${id}`);
      return after;
    },
    markStockSettled: async (id) => void done.push(`settled ${id}`),
    findStalePending: async () => ['a1', 'a2', 'a3'].map((orderId) => ({ orderId, customerId: 'c1' })),
    failPlacement: async (id) => {
      if (id === 'a2') throw new Error('shard 2 is unreachable');
      done.push(`failed ${id}`);
      return true;
    },
    findUnsettled: async () => ['s1', 's2', 's3'].map((orderId) => ({ orderId, action: 'COMMIT' as StockAction, status: 'PAID' as const })),
  };
  const inventory: InventoryPort = {
    reserve: async () => undefined,
    prepareCommit: async () => undefined,
    commit: async (id) => {
      if (id === 's2') throw new Error('inventory is unreachable');
    },
    release: async () => undefined,
  };
  const log = { warn: (context: object) => void warnings.push(context), error: (context: object) => void warnings.push(context) };
  const lifecycle = createOrderLifecycle({
    repository: repository as OrderRepository,
    inventory,
    ids: { next: () => 'x', isValid: () => true },
    clock: { now: () => NOW },
    outbox: { notify: () => undefined },
    log,
    pendingTimeoutMs: 30_000,
    settleAfterMs: 0,
  });
  const logger = createLogger('sweeper-test', 'silent');
  return { sweeper: new OrderSweeper(lifecycle, logger, 3_600_000), done, warnings };
}

describe('OrderSweeper', () => {
  it('when one item of each step fails, then it fails alone: the items after it and the later steps of the sweep still run', async () => {
    const { sweeper, done, warnings } = harness();
    const result = await sweeper.sweep();
    expect(result).toEqual({ expired: 2, abandoned: 2, settled: 2 });
    expect(done).toEqual([
      'expired e1',
      'settled e1',
      'expired e3',
      'settled e3',
      'failed a1',
      'settled a1',
      'failed a3',
      'settled a3',
      'settled s1',
      'settled s3',
    ]);
    // Each failure is logged with the order it concerns.
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ orderId: 'e2' }),
        expect.objectContaining({ orderId: 'a2' }),
        expect.objectContaining({ orderId: 's2' }),
      ]),
    );
  });
});
