import { DependencyUnavailableError } from './errors';
import type { Order, OrderEventRecord, PlaceOrderCommand } from './model';
import { place } from './order.aggregate';
import { type PlacementCompensation, reserveFailure } from './placement-compensation';
import type { Clock } from './ports';

/** How many order ids a placement draws before it gives up (two ids collide only by chance, or with a keyed claim's). */
const MAX_ORDER_IDS = 5;

/** What `written` answers when the write found the order's id taken on its shard (the stock given back): draw another. */
export const ID_TAKEN = Symbol('id taken');

export interface FreshIdPlacementDeps {
  clock: Clock;
  compensate: PlacementCompensation;
  /** A new PENDING order for the command, under a fresh id. */
  nextOrder(command: PlaceOrderCommand): Order;
  /** The placement's stock (placement-stock.ts). */
  reserveStock(order: Order): Promise<void>;
  /** A stored order's answer (wakes the relay). */
  placed(order: Order): { order: Order; replayed: false };
}

/** The steps in which a placement without a claim (no key, or the gateway's own) differs. */
export interface FreshIdPlacementSteps<W, T> {
  /** A refused Reserve, once what it may hold was given back: its answer, or thrown. */
  refused(error: unknown): Promise<T>;
  /** The one transaction that stores the order as RESERVED with its event. */
  write(event: OrderEventRecord): Promise<W>;
  /** The answer of what the write did, or ID_TAKEN; whatever it does not place gives its stock back. */
  written(result: W, reserved: Order): Promise<T | typeof ID_TAKEN>;
}

/**
 * A placement that stores nothing before its stock is held (no key, or the gateway's own): under a fresh
 * order id, Reserve (an id inventory says another placement holds draws another), then one write of the
 * order as RESERVED. A write that fails gives the stock back and fails, unless the order was stored after
 * all; a write that finds the id taken on its shard draws another id. At most MAX_ORDER_IDS ids, then
 * DependencyUnavailableError.
 */
export function createFreshIdPlacement({ clock, compensate, nextOrder, reserveStock, placed }: FreshIdPlacementDeps) {
  return async function placeUnderFreshId<W, T>(command: PlaceOrderCommand, steps: FreshIdPlacementSteps<W, T>): Promise<T | ReturnType<typeof placed>> {
    for (let attempt = 0; attempt < MAX_ORDER_IDS; attempt++) {
      const order = nextOrder(command);
      try {
        await reserveStock(order);
      } catch (error) {
        if (reserveFailure(error) === 'id-taken') continue; // another process made the same id
        await compensate.reserveFailed(order, error);
        return steps.refused(error);
      }
      const { order: reserved, event } = place(order, clock.now());
      let result: W;
      try {
        result = await steps.write(event);
      } catch (error) {
        const storedAfterAll = await compensate.insertFailed(order.id, error);
        if (storedAfterAll) return placed(storedAfterAll);
        throw error;
      }
      const answer = await steps.written(result, reserved);
      if (answer !== ID_TAKEN) return answer;
    }
    throw new DependencyUnavailableError('order ids');
  };
}

export type FreshIdPlacement = ReturnType<typeof createFreshIdPlacement>;
