import { createFreshIdPlacement, ID_TAKEN } from './fresh-id-placement';
import { createGatewayKeyedPlacement } from './gateway-keyed-placement';
import { createIdempotentPlacement } from './idempotent-placement';
import type { Order, PlaceOrderCommand } from './model';
import { newOrder, place } from './order.aggregate';
import { createPlacementCompensation } from './placement-compensation';
import { createPlacementStock, PlacementStockSettings } from './placement-stock';
import type { ClaimOwners, OrderUseCaseDeps, WaitBudget } from './ports';
import { OrderLimits, validatePlaceOrder } from './validation';

export interface PlaceOrderSettings extends PlacementStockSettings {
  limits: OrderLimits;
  /** How long an unpaid order holds its stock. */
  paymentWindowMs: number;
  /** How long a duplicate call waits for the first call with its key to finish. */
  inFlightWaitMs: number;
}

export interface PlaceOrderDeps extends OrderUseCaseDeps {
  settings: PlaceOrderSettings;
  /** Caps the in-flight wait by the caller's deadline (none: the configured wait). */
  waits?: WaitBudget;
  /** Names this process on its claims and tells whether another claim's owner lives (none: duplicates only wait). */
  owners?: ClaimOwners;
}

/**
 * PlaceOrder: validate; with a client's idempotency key, claim it (or replay, or wait: idempotent-placement.ts);
 * reserve the stock (inventory checks products, prices and stock in one call: placement-stock.ts); store
 * the order as RESERVED with its OrderPlaced event; wake the relay. A step that fails gives back what the
 * steps before it hold (placement-compensation.ts). A key the gateway made for its own repeat needs no
 * claim: it is stored with the order (gateway-keyed-placement.ts).
 */
export function createPlaceOrder({ repository, inventory, ids, clock, outbox, log, settings, waits, owners }: PlaceOrderDeps) {
  const reserveStock = createPlacementStock(inventory, settings);
  const compensate = createPlacementCompensation({ repository, inventory, log });

  const nextOrder = (command: PlaceOrderCommand): Order => {
    const now = clock.now();
    return newOrder(command, ids.next(command.customerId), now, settings.paymentWindowMs);
  };

  const placed = (order: Order): { order: Order; replayed: false } => {
    outbox.notify();
    return { order, replayed: false };
  };
  const placeUnderFreshId = createFreshIdPlacement({ clock, compensate, nextOrder, reserveStock, placed });

  /**
   * Without a key nothing needs storing before the stock is held, so the order is written once: Reserve
   * first (inventory refuses an id another placement holds: draw another), then one transaction stores
   * the order as RESERVED. A refusal writes nothing; a crash in between leaves a reservation that
   * inventory's sweeper releases when it expires.
   */
  const placeWithoutKey = (command: PlaceOrderCommand): Promise<{ order: Order; replayed: false }> =>
    placeUnderFreshId(command, {
      refused: (error) => Promise.reject(error),
      write: (event) => repository.insertPlaced(event),
      written: async (stored, reserved) => {
        if (stored) return placed(reserved);
        await compensate.release(reserved.id); // the id is taken on its shard (a keyed claim made it too): draw another
        return ID_TAKEN;
      },
    });

  /** With a key, once claimed: Reserve, then PENDING -> RESERVED with the key's stored answer. */
  const placeClaimed = async (order: Order, key: string): Promise<{ order: Order; replayed: false }> => {
    try {
      await reserveStock(order);
    } catch (error) {
      throw await compensate.claimedReserveFailed(order, key, error);
    }
    const { order: reserved, event } = place(order, clock.now());
    let stored: boolean;
    try {
      stored = await repository.completePlacement(event, key);
    } catch (error) {
      await compensate.storeFailed(order, key, error);
      throw error;
    }
    if (!stored) throw await compensate.claimLost(order, key);
    return placed(reserved);
  };

  const placeWithKey = createIdempotentPlacement({ repository, inventory, owners, log, settings, waits, nextOrder, placeClaimed });
  const placeWithGatewayKey = createGatewayKeyedPlacement({ repository, log, compensate, placed, placeUnderFreshId, placeWithKey });

  return async function placeOrder(input: PlaceOrderCommand): Promise<{ order: Order; replayed: boolean }> {
    const command = validatePlaceOrder(input, settings.limits);
    const key = command.idempotencyKey;
    if (!key) return placeWithoutKey(command);
    return command.keyMadeByGateway ? placeWithGatewayKey(command, key) : placeWithKey(command, key);
  };
}

export type PlaceOrder = ReturnType<typeof createPlaceOrder>;
