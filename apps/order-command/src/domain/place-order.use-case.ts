import { randomUUID } from 'node:crypto';
import {
  IdempotencyKeyInFlightError,
  IdempotencyKeyReusedError,
  InsufficientStockError,
  OrderError,
  PriceChangedError,
  UnknownProductError,
} from './errors';
import type { Order, OrderItem, PlaceOrderCommand } from './model';
import type { Clock, IdempotencyRecord, InventoryPort, Log, OrderIdSource, OrderRepository, OutboxSignal, StoredOutcome } from './ports';
import { OrderLimits, orderTotal, requestFingerprint, validatePlaceOrder } from './validation';

export interface PlaceOrderSettings {
  limits: OrderLimits;
  /** How long an unpaid order holds its stock. */
  paymentWindowMs: number;
  /** Inventory keeps the reservation this much longer, so its own sweeper never beats ours. */
  reservationGraceMs: number;
  /** How long a duplicate call waits for the first call with its key to finish. */
  inFlightWaitMs: number;
}

export interface PlaceOrderDeps {
  repository: OrderRepository;
  inventory: InventoryPort;
  ids: OrderIdSource;
  clock: Clock;
  outbox: OutboxSignal;
  log: Log;
  settings: PlaceOrderSettings;
}

/** Refusals that are the answer to this exact request: stored under its idempotency key. */
const isDeterministic = (error: unknown): error is OrderError =>
  error instanceof InsufficientStockError || error instanceof PriceChangedError || error instanceof UnknownProductError;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createPlaceOrder({ repository, inventory, ids, clock, outbox, log, settings }: PlaceOrderDeps) {
  const replay = (record: IdempotencyRecord, fingerprint: string): { order: Order; replayed: true } => {
    if (record.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError();
    const outcome = record.outcome as StoredOutcome;
    if (outcome.kind === 'error') throw outcome.error;
    return { order: outcome.order, replayed: true };
  };

  /** A duplicate of a call still running: wait for its answer, or start afresh if it gave up. */
  const awaitFirstCall = async (command: PlaceOrderCommand, record: IdempotencyRecord, fingerprint: string) => {
    if (record.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError();
    const deadline = Date.now() + settings.inFlightWaitMs;
    for (let current: IdempotencyRecord | undefined = record; Date.now() < deadline; ) {
      await sleep(25);
      current = await repository.findIdempotency(command.customerId, command.idempotencyKey as string);
      if (!current) return undefined; // the first call failed transiently and freed the key
      if (current.state === 'DONE') return replay(current, fingerprint);
    }
    throw new IdempotencyKeyInFlightError();
  };

  /** Refuses, before anything is written, what inventory would refuse: unknown products, changed prices, stock short now. */
  const checkCatalog = async (items: OrderItem[]) => {
    const catalog = await inventory.catalog([...new Set(items.map((i) => i.productId))]);
    const unknown = [...new Set(items.filter((i) => !catalog.has(i.productId)).map((i) => i.productId))];
    if (unknown.length > 0) throw new UnknownProductError(unknown);
    const changed = items
      .filter((i) => catalog.get(i.productId)?.priceMinor !== i.unitPriceMinor)
      .map((i) => ({ productId: i.productId, requestedUnitPriceMinor: i.unitPriceMinor, currentUnitPriceMinor: catalog.get(i.productId)?.priceMinor as number }));
    if (changed.length > 0) throw new PriceChangedError(changed);
    const requested = new Map<string, number>();
    for (const item of items) requested.set(item.productId, (requested.get(item.productId) ?? 0) + item.quantity);
    const short = [...requested]
      .map(([productId, quantity]) => ({ productId, requested: quantity, available: catalog.get(productId)?.available ?? 0 }))
      .filter((s) => s.available < s.requested);
    if (short.length > 0) throw new InsufficientStockError(short);
  };

  const reserveStock = async (order: Order, checked: boolean) => {
    if (!checked) await checkCatalog(order.items);
    const reservationExpiry = new Date(order.expiresAt.getTime() + settings.reservationGraceMs);
    await inventory.reserve(order.id, order.items.map((i) => ({ productId: i.productId, quantity: i.quantity })), reservationExpiry);
  };

  /** Stock may be held for this id (a Reserve whose answer was lost): give it back, or leave it to the settler. */
  const abandon = async (order: Order, key: string | undefined, error: unknown) => {
    const released = await inventory.release(order.id, 'placement-failed').then(
      () => true,
      (releaseError: unknown) => {
        log.warn({ err: releaseError, orderId: order.id }, 'release after a failed placement failed; the settler will retry');
        return false;
      },
    );
    await repository.failPlacement(order.id, order.customerId, { idempotencyKey: key, owesRelease: !released }).catch((failError: unknown) =>
      log.error({ err: failError, orderId: order.id, cause: error }, 'could not mark a failed placement; the pending sweeper will'),
    );
  };

  const placeClaimed = async (order: Order, key: string | undefined, checked: boolean): Promise<{ order: Order; replayed: false }> => {
    try {
      await reserveStock(order, checked);
    } catch (error) {
      if (isDeterministic(error)) {
        await repository.failPlacement(order.id, order.customerId, { idempotencyKey: key, outcome: key ? { kind: 'error', error } : undefined, owesRelease: false });
      } else {
        await abandon(order, key, error);
      }
      throw error;
    }
    const placed: Order = { ...order, status: 'RESERVED', version: 1 };
    let stored = false;
    try {
      stored = await repository.completePlacement({ eventId: randomUUID(), kind: 'placed', order: placed, occurredAt: placed.updatedAt }, key);
    } catch (error) {
      await abandon(order, key, error);
      throw error;
    }
    if (!stored) {
      // The pending sweeper gave up on this order meanwhile (and released its stock).
      const error = new IdempotencyKeyInFlightError();
      await abandon(order, key, error);
      throw error;
    }
    outbox.notify();
    return { order: placed, replayed: false };
  };

  return async function placeOrder(input: PlaceOrderCommand): Promise<{ order: Order; replayed: boolean }> {
    const command = validatePlaceOrder(input, settings.limits);
    const fingerprint = requestFingerprint(command);
    const key = command.idempotencyKey;
    // Without a key nothing needs storing for a refusal: check first, and a sold-out product costs no write.
    // With a key the claim comes first, so the refusal is stored and replayed.
    if (!key) await checkCatalog(command.items);
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = clock.now();
      const order: Order = {
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
      const claim = await repository.claim(order, key ? { key, fingerprint } : undefined);
      if (claim.kind === 'duplicate-id') continue; // another process made the same id in the same millisecond
      if (claim.kind === 'existing-key') {
        if (claim.record.state === 'DONE') return replay(claim.record, fingerprint);
        const answer = await awaitFirstCall(command, claim.record, fingerprint);
        if (answer) return answer;
        continue;
      }
      return placeClaimed(order, key, !key);
    }
    throw new IdempotencyKeyInFlightError();
  };
}

export type PlaceOrder = ReturnType<typeof createPlaceOrder>;
