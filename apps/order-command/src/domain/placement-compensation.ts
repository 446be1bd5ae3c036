import {
  DependencyUnavailableError,
  IdempotencyKeyInFlightError,
  InsufficientStockError,
  InventoryOverloadedError,
  OrderError,
  OrderIdTakenError,
  PriceChangedError,
  UnknownProductError,
} from './errors';
import type { Order } from './model';
import type { InventoryPort, Log, OrderRepository } from './ports';

/** How a failed Reserve left inventory: what a placement then gives back, stores, or tries again. */
export type ReserveFailure =
  /** The answer to this exact request (unknown product, price changed, short stock): nothing held; stored under a key. */
  | 'refused'
  /** Refused at once (a product's queue is full): nothing held, and not the request's answer (a retry after the hint should succeed). */
  | 'overloaded'
  /** Another placement holds this order id in inventory (two processes made the same id): its stock is not ours to release. */
  | 'id-taken'
  /** Anything else (inventory unreachable, an answer lost): the Reserve may have gone through. */
  | 'unknown';

export function reserveFailure(error: unknown): ReserveFailure {
  if (error instanceof InsufficientStockError || error instanceof PriceChangedError || error instanceof UnknownProductError) return 'refused';
  if (error instanceof InventoryOverloadedError) return 'overloaded';
  if (error instanceof OrderIdTakenError) return 'id-taken';
  return 'unknown';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface PlacementCompensationDeps {
  repository: OrderRepository;
  inventory: InventoryPort;
  log: Log;
}

/**
 * What a placement undoes when a step after its claim or its Reserve fails: the stock goes back, the
 * claim is failed (or withdrawn) so its key is free or keeps the refusal. Whatever cannot be undone now
 * is left to the settler (a FAILED order owing a release) or to the reservation's own expiry.
 */
export function createPlacementCompensation({ repository, inventory, log }: PlacementCompensationDeps) {
  /** Gives back what a failed placement may hold; on failure the settler or the reservation's own expiry returns it. */
  const release = (orderId: string) =>
    inventory.release(orderId, 'placement-failed').then(
      () => true,
      (error: unknown) => {
        log.warn({ err: error, orderId }, 'release after a failed placement failed; the settler or the reservation expiry gives the stock back');
        return false;
      },
    );

  /** Stock may be held for this keyed placement: give it back, or leave it to the settler; fail the claim and free its key. */
  const abandon = async (order: Order, key: string | undefined, error: unknown) => {
    const released = await release(order.id);
    await repository
      .failPlacement(order.id, order.customerId, { idempotencyKey: key, owesRelease: !released })
      .catch((failError: unknown) =>
        log.error({ err: failError, orderId: order.id, cause: error }, 'could not mark a failed placement; the pending sweeper will'),
      );
  };

  /** The order as stored, or undefined when the shard cannot tell (a few tries: a dropped pool connection fails once). */
  const lookUp = async (orderId: string): Promise<{ found: Order | undefined } | undefined> => {
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        return { found: await repository.get(orderId) };
      } catch {
        if (attempt < 3) await sleep(50 * attempt);
      }
    }
    return undefined;
  };

  return {
    release,

    /** Without a key, the Reserve failed (not for a taken id): give back what it may have held. Nothing was stored. */
    async reserveFailed(order: Order, error: unknown): Promise<void> {
      if (reserveFailure(error) === 'unknown') await release(order.id);
    },

    /**
     * Without a key, the write failed: the COMMIT may have gone through before the connection broke, so
     * look before giving the stock back. The order when it is stored after all (it is the answer); if the
     * shard cannot even be read, the reservation is left to expire rather than risk a stored order without stock.
     */
    async insertFailed(orderId: string, error: unknown): Promise<Order | undefined> {
      const lookup = await lookUp(orderId);
      if (lookup?.found) return lookup.found;
      if (lookup) await release(orderId);
      else log.warn({ err: error, orderId }, 'cannot tell whether a placed order was stored; its reservation is left to expire');
      return undefined;
    },

    /** With a key, the Reserve failed: settle the claim as the failure says. Returns the error to answer. */
    async claimedReserveFailed(order: Order, key: string, error: unknown): Promise<unknown> {
      switch (reserveFailure(error)) {
        case 'refused': {
          // The answer to this request: stored under its key, and replayed.
          const outcome = { kind: 'error' as const, error: error as OrderError };
          await repository.failPlacement(order.id, order.customerId, { idempotencyKey: key, outcome, owesRelease: false });
          return error;
        }
        case 'overloaded': // nothing held: the attempt leaves nothing behind, and its answer is not stored
          await repository.withdrawClaim(order.id, order.customerId, key);
          return error;
        case 'id-taken': // not ours to release; the key is freed for a retry
          await repository.failPlacement(order.id, order.customerId, { idempotencyKey: key, owesRelease: false });
          return new DependencyUnavailableError('inventory', error);
        case 'unknown':
          await abandon(order, key, error);
          return error;
      }
    },

    /** With a key, the write failed: give the stock back and free the key. */
    storeFailed: abandon,

    /**
     * With a key, the claim was no longer PENDING when the order was stored: the pending sweeper gave up on
     * it meanwhile, or a duplicate took it over believing this process gone (ADR 0006); either owes a
     * release for it. Give the stock back now; the caller's retry with the key gets the new answer.
     */
    async claimLost(order: Order, key: string): Promise<unknown> {
      const error = new IdempotencyKeyInFlightError();
      await abandon(order, key, error);
      return error;
    },
  };
}

export type PlacementCompensation = ReturnType<typeof createPlacementCompensation>;
