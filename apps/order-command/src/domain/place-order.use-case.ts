import { randomUUID } from 'node:crypto';
import { createClaimWait, replayStored } from './claim-wait';
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
import type { Order, OrderEventRecord, PlaceOrderCommand } from './model';
import { placementNote } from './order-history';
import type { ClaimOwners, OrderUseCaseDeps, WaitBudget } from './ports';
import { SoldOutProducts } from './sold-out-products';
import { OrderLimits, orderTotal, requestFingerprint, validatePlaceOrder } from './validation';

export interface PlaceOrderSettings {
  limits: OrderLimits;
  /** How long an unpaid order holds its stock. */
  paymentWindowMs: number;
  /** Inventory keeps the reservation this much longer, so its own sweeper never beats ours. */
  reservationGraceMs: number;
  /** How long a duplicate call waits for the first call with its key to finish. */
  inFlightWaitMs: number;
  /** How long a product inventory refused as sold out is refused here without asking (0: always ask). */
  soldOutCacheMs?: number;
}

export interface PlaceOrderDeps extends OrderUseCaseDeps {
  settings: PlaceOrderSettings;
  /** Caps the in-flight wait by the caller's deadline (none: the configured wait). */
  waits?: WaitBudget;
  /** Names this process on its claims and tells whether another claim's owner lives (none: duplicates only wait). */
  owners?: ClaimOwners;
}

/** Refusals that are the answer to this exact request: stored under its idempotency key. */
const isDeterministic = (error: unknown): error is OrderError =>
  error instanceof InsufficientStockError || error instanceof PriceChangedError || error instanceof UnknownProductError;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createPlaceOrder({ repository, inventory, ids, clock, outbox, log, settings, waits, owners }: PlaceOrderDeps) {
  const awaitFirstCall = createClaimWait({ repository, inventory, owners, log, settings, waits });

  const soldOut = new SoldOutProducts(settings.soldOutCacheMs ?? 0);

  const reserveStock = async (order: Order, placementId: string) => {
    const known = soldOut.shortages(order.items);
    if (known.length > 0) throw new InsufficientStockError(known);
    try {
      await inventory.reserve(order.id, order.items, new Date(order.expiresAt.getTime() + settings.reservationGraceMs), placementId);
    } catch (error) {
      if (error instanceof InsufficientStockError) soldOut.record(error.shortages);
      throw error;
    }
  };

  const placedEvent = (order: Order): OrderEventRecord => ({ eventId: randomUUID(), kind: 'placed', order, occurredAt: order.updatedAt, ...placementNote(order.customerId) });

  /** RESERVED as of now: the event's time is when the order took its stock, not when the request arrived. */
  const asPlaced = (order: Order): Order => ({ ...order, status: 'RESERVED', version: 1, updatedAt: clock.now() });

  const newOrder = (command: PlaceOrderCommand): Order => {
    const now = clock.now();
    return {
      id: ids.next(command.customerId),
      customerId: command.customerId,
      status: 'PENDING',
      items: command.items,
      totalMinor: orderTotal(command.items),
      address: command.address,
      paymentMethod: command.paymentMethod,
      version: 0,
      createdAt: now,
      updatedAt: now,
      expiresAt: new Date(now.getTime() + settings.paymentWindowMs),
    };
  };

  /** Gives back what a failed placement may hold; on failure the reservation's own expiry returns it. */
  const releaseQuietly = (orderId: string) =>
    inventory.release(orderId, 'placement-failed').then(
      () => true,
      (error: unknown) => {
        log.warn({ err: error, orderId }, 'release after a failed placement failed; the settler or the reservation expiry gives the stock back');
        return false;
      },
    );

  /** Stock may be held for this id (a Reserve whose answer was lost): give it back, or leave it to the settler. */
  const abandon = async (order: Order, key: string | undefined, error: unknown) => {
    const released = await releaseQuietly(order.id);
    await repository.failPlacement(order.id, order.customerId, { idempotencyKey: key, owesRelease: !released }).catch((failError: unknown) =>
      log.error({ err: failError, orderId: order.id, cause: error }, 'could not mark a failed placement; the pending sweeper will'),
    );
  };

  /**
   * Without a key nothing needs storing before the stock is held, so the order is written once: Reserve
   * first (inventory checks products, prices and stock, and refuses an id another placement holds), then
   * one transaction stores the order as RESERVED. A refusal writes nothing. If the write fails, the stock
   * goes back (unless the order turns out stored after all); a crash in between leaves a reservation that
   * inventory's sweeper releases when it expires.
   */
  const placeWithoutKey = async (command: PlaceOrderCommand): Promise<{ order: Order; replayed: false }> => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const order = newOrder(command);
      try {
        await reserveStock(order, randomUUID());
      } catch (error) {
        if (error instanceof OrderIdTakenError) continue; // another process made the same id
        // The Reserve may have gone through, unless inventory refused it at once (nothing to give back).
        if (!isDeterministic(error) && !(error instanceof InventoryOverloadedError)) await releaseQuietly(order.id);
        throw error;
      }
      const placed = asPlaced(order);
      let stored: boolean;
      try {
        stored = await repository.insertPlaced(placedEvent(placed));
      } catch (error) {
        // The COMMIT may have gone through before the connection failed: look before giving the stock back.
        const lookup = await lookUp(order.id);
        if (lookup?.found) return done(lookup.found);
        if (lookup) await releaseQuietly(order.id);
        else log.warn({ err: error, orderId: order.id }, 'cannot tell whether a placed order was stored; its reservation is left to expire');
        throw error;
      }
      if (stored) return done(placed);
      await releaseQuietly(order.id); // the id is taken on its shard (a keyed claim made it too)
    }
    throw new DependencyUnavailableError('order ids');
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

  const done = (placed: Order): { order: Order; replayed: false } => {
    outbox.notify();
    return { order: placed, replayed: false };
  };

  /** With a key: the claim (PENDING order + IN_FLIGHT key) first, so a refusal is stored and replayed. */
  const placeClaimed = async (order: Order, key: string): Promise<{ order: Order; replayed: false }> => {
    try {
      await reserveStock(order, randomUUID());
    } catch (error) {
      if (isDeterministic(error)) {
        await repository.failPlacement(order.id, order.customerId, { idempotencyKey: key, outcome: { kind: 'error', error }, owesRelease: false });
        throw error;
      }
      if (error instanceof InventoryOverloadedError) {
        // Refused at once, nothing held: the attempt leaves nothing behind, and its answer is not stored
        // (a retry after the hint should succeed).
        await repository.withdrawClaim(order.id, order.customerId, key);
        throw error;
      }
      if (error instanceof OrderIdTakenError) {
        // Another placement holds this id's stock: not ours to release. The key is freed for a retry.
        await repository.failPlacement(order.id, order.customerId, { idempotencyKey: key, owesRelease: false });
        throw new DependencyUnavailableError('inventory', error);
      }
      await abandon(order, key, error);
      throw error;
    }
    const placed = asPlaced(order);
    let stored = false;
    try {
      stored = await repository.completePlacement(placedEvent(placed), key);
    } catch (error) {
      await abandon(order, key, error);
      throw error;
    }
    if (!stored) {
      // The pending sweeper gave up on this order meanwhile, or a duplicate took the claim over believing
      // this process gone (ADR 0006); either owes a release for it. Give the stock back now.
      const error = new IdempotencyKeyInFlightError();
      await abandon(order, key, error);
      throw error;
    }
    return done(placed);
  };

  return async function placeOrder(input: PlaceOrderCommand): Promise<{ order: Order; replayed: boolean }> {
    const command = validatePlaceOrder(input, settings.limits);
    const key = command.idempotencyKey;
    if (!key) return placeWithoutKey(command);
    const fingerprint = requestFingerprint(command);
    for (let attempt = 0; attempt < 5; attempt++) {
      const order = newOrder(command);
      const claim = await repository.claim(order, { key, fingerprint, owner: owners?.self(command.customerId) });
      if (claim.kind === 'duplicate-id') continue; // another process made the same id in the same millisecond
      if (claim.kind === 'existing-key') {
        if (claim.record.state === 'DONE') return replayStored(claim.record, fingerprint);
        const answer = await awaitFirstCall(command.customerId, key, claim.record, fingerprint);
        if (answer) return answer;
        continue; // the key is free again (the first call gave up, or was taken over): place afresh
      }
      return placeClaimed(order, key);
    }
    throw new IdempotencyKeyInFlightError();
  };
}

export type PlaceOrder = ReturnType<typeof createPlaceOrder>;
