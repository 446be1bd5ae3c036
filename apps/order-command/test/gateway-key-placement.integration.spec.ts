import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { createSqlPool, type SqlPool } from '@orderflow/database';
import { errorDetails, orderV1 } from '@orderflow/proto';
import { decodeOrderId } from '@orderflow/sharding';
import { typescriptNodeArgs } from '@orderflow/stack';
import { loadConfig } from '../src/config';
import type { Order, OrderEventRecord, PlaceOrderCommand } from '../src/domain/model';
import type { OrderRepository } from '../src/domain/ports';
import { newOrder, place } from '../src/domain/order.aggregate';
import { requestFingerprint } from '../src/domain/validation';
import { ShardedOrderIds } from '../src/infrastructure/order-ids';
import { decodeOutcome } from '../src/infrastructure/outcome-codec';
import { orderApi, orderCommandEnv, orderCommandRun, placeOrderRequest, startInventoryProcess, startOrderCommand } from './support';

interface KeyRow {
  state: string;
  order_id: string;
  owner: string | null;
  response: Buffer | null;
}

/**
 * ADR 0007's way back: a key the gateway made for its own one repeat takes no claim. Reserve first, then
 * one group-committed transaction stores the order with its key already DONE; the repeat finds the key.
 */
describe("PlaceOrder under the gateway's own key (real MariaDB x2, Redis, NATS and the inventory process)", () => {
  /** The repository writes the placements made, by name. */
  const writes: string[] = [];
  const run = orderCommandRun(
    {},
    {
      decorateRepository: (repository: OrderRepository) => {
        const counted =
          (name: 'claim' | 'completePlacement' | 'insertPlacedWithKey') =>
          (...args: unknown[]) => {
            writes.push(name);
            return (repository[name] as (...a: unknown[]) => unknown).apply(repository, args);
          };
        const names = ['claim', 'completePlacement', 'insertPlacedWithKey'] as const;
        return Object.assign(Object.create(repository) as OrderRepository, Object.fromEntries(names.map((name) => [name, counted(name)])));
      },
    },
  );
  beforeEach(() => {
    writes.length = 0;
  });
  let shards: SqlPool[];
  beforeAll(() => {
    shards = run.oc.config.shards.map((s) => createSqlPool(s, { max: 2 }));
  });
  afterAll(async () => {
    await Promise.all((shards ?? []).map((db) => db.end()));
  });

  const product = (id: string, available: number, priceMinor = 1000) => run.inventory.api.upsertProduct({ id, name: id, priceMinor, available });
  const stockOf = async (id: string) => (await run.inventory.api.getProducts({ productIds: [id] })).products[0]!;
  const line = (productId: string, quantity: number, unitPriceMinor = 1000) => ({ productId, quantity, unitPriceMinor });
  const placeUnder = (customerId: string, key: string, item: orderV1.OrderItem, more: Partial<orderV1.PlaceOrderRequest> = {}) =>
    run.oc.api.placeOrder(placeOrderRequest(customerId, item, { idempotencyKey: key, idempotencyKeyMadeByGateway: true, ...more }));
  /** The shard the live map names for the customer: the one the claim path writes its keys on. */
  const shardOf = (customerId: string) => shards[run.oc.app.shardMap.current.router.shardForCustomer(customerId)]!;
  const keyRows = (customerId: string, key: string) =>
    shardOf(customerId).select<KeyRow>(
      `SELECT state, CAST(order_id AS CHAR) AS order_id, owner, response FROM idempotency_keys WHERE customer_id = ? AND idempotency_key = ?`,
      [customerId, key],
    );
  const ordersOf = async (customerId: string) =>
    (
      await Promise.all(
        shards.map((db) => db.select<{ id: string; status: string }>(`SELECT CAST(id AS CHAR) AS id, status FROM orders WHERE customer_id = ?`, [customerId])),
      )
    ).flat();

  it('when placed, then the order is RESERVED and its key DONE with the order as the stored answer, on the shard the claim path uses, with no claim made', async () => {
    await product('gk-p', 10);
    const key = `~gateway:${randomUUID()}`;
    const { order, replayed } = await placeUnder('gk-ann', key, line('gk-p', 2));
    expect(replayed).toBe(false);
    expect(writes).toEqual(['insertPlacedWithKey']);
    expect(order).toMatchObject({ customerId: 'gk-ann', status: orderV1.OrderStatus.ORDER_STATUS_RESERVED, version: 1, totalMinor: 2000 });
    const [row] = await keyRows('gk-ann', key);
    expect(row).toMatchObject({ state: 'DONE', order_id: order!.id, owner: null });
    const stored = decodeOutcome(row!.response!);
    expect(stored.kind === 'order' && stored.order.id).toBe(order!.id);
    expect(await ordersOf('gk-ann')).toEqual([{ id: order!.id, status: 'RESERVED' }]);
    expect(await stockOf('gk-p')).toMatchObject({ available: 8, reserved: 2 });
    // The claim path reads the same row: a client's call with that key and body replays the order.
    const viaClaimPath = await run.oc.api.placeOrder(placeOrderRequest('gk-ann', line('gk-p', 2), { idempotencyKey: key }));
    expect(viaClaimPath).toEqual({ order, replayed: true });
    expect(writes).toEqual(['insertPlacedWithKey', 'claim']);
    expect(await stockOf('gk-p')).toMatchObject({ available: 8, reserved: 2 });
  });

  it('when the call is repeated with the key and body, then the same order is replayed and the stock is held once', async () => {
    await product('gk-repeat', 10);
    const key = `~gateway:${randomUUID()}`;
    const first = await placeUnder('gk-bob', key, line('gk-repeat', 3));
    const repeat = await placeUnder('gk-bob', key, line('gk-repeat', 3));
    expect(repeat).toEqual({ order: first.order, replayed: true });
    expect(writes).toEqual(['insertPlacedWithKey', 'insertPlacedWithKey']);
    expect(await stockOf('gk-repeat')).toMatchObject({ available: 7, reserved: 3 });
    expect(await ordersOf('gk-bob')).toEqual([{ id: first.order!.id, status: 'RESERVED' }]);
  });

  it('when the repeat races the first call (both in flight), then there is exactly one order and the stock is held once', async () => {
    await product('gk-race', 100);
    const key = `~gateway:${randomUUID()}`;
    const answers = await Promise.all(Array.from({ length: 12 }, () => placeUnder('gk-cara', key, line('gk-race', 2))));
    expect(new Set(answers.map((a) => a.order!.id)).size).toBe(1);
    expect(answers.filter((a) => !a.replayed)).toHaveLength(1);
    expect(writes.filter((w) => w !== 'insertPlacedWithKey')).toEqual([]);
    expect(new Set(answers.map((a) => JSON.stringify(a.order)))).toEqual(new Set([JSON.stringify(answers[0]!.order)]));
    expect(await ordersOf('gk-cara')).toEqual([{ id: answers[0]!.order!.id, status: 'RESERVED' }]);
    expect(await stockOf('gk-race')).toMatchObject({ available: 98, reserved: 2 });
  });

  it('when inventory refuses, then nothing is stored under the key, and the repeat after a restock places the order', async () => {
    await product('gk-short', 1);
    const key = `~gateway:${randomUUID()}`;
    const refused = await placeUnder('gk-dan', key, line('gk-short', 5)).catch((e) => e);
    expect(refused.code).toBe(status.FAILED_PRECONDITION);
    expect(errorDetails.errorReason(refused.metadata)).toBe('insufficient-stock');
    expect([await keyRows('gk-dan', key), await ordersOf('gk-dan')]).toEqual([[], []]);
    await product('gk-short', 50);
    const retried = await placeUnder('gk-dan', key, line('gk-short', 5));
    expect([retried.replayed, retried.order!.status]).toEqual([false, orderV1.OrderStatus.ORDER_STATUS_RESERVED]);
    expect(await stockOf('gk-short')).toMatchObject({ available: 45, reserved: 5 });
  });

  it('when the repeat of a call that stored is refused for the last units that call holds, then the key answers: the order is replayed', async () => {
    await product('gk-last', 2);
    const key = `~gateway:${randomUUID()}`;
    const first = await placeUnder('gk-eve', key, line('gk-last', 2));
    const repeat = await placeUnder('gk-eve', key, line('gk-last', 2));
    expect(repeat).toEqual({ order: first.order, replayed: true });
    expect(await stockOf('gk-last')).toMatchObject({ available: 0, reserved: 2 });
  });

  it('when the key comes again with another body, then it is idempotency-key-reused, nothing more is stored, and the stock the call held goes back', async () => {
    await product('gk-other', 10);
    const key = `~gateway:${randomUUID()}`;
    const first = await placeUnder('gk-fay', key, line('gk-other', 1));
    const reused = await placeUnder('gk-fay', key, line('gk-other', 4)).catch((e) => e);
    expect(reused.code).toBe(status.FAILED_PRECONDITION);
    expect(errorDetails.errorReason(reused.metadata)).toBe('idempotency-key-reused');
    expect(await ordersOf('gk-fay')).toEqual([{ id: first.order!.id, status: 'RESERVED' }]);
    expect(await stockOf('gk-other')).toMatchObject({ available: 9, reserved: 1 });
  });

  it('when a claim-path call holds the key IN_FLIGHT, then the call gives its stock back, waits for that call and replays its answer', async () => {
    await product('gk-inflight', 10);
    const key = `~gateway:${randomUUID()}`;
    const command: PlaceOrderCommand = { customerId: 'gk-gil', items: [line('gk-inflight', 1)], address: 'A', paymentMethod: 'card' };
    const claimed = newOrder(command, new ShardedOrderIds().next('gk-gil'), new Date(), 60_000);
    // A call of the claim path (a gateway from before the flag, or its key) holds the key in flight.
    expect(await run.oc.app.repository.claim(claimed, { key, fingerprint: requestFingerprint(command) })).toEqual({ kind: 'claimed' });
    const waiting = placeUnder('gk-gil', key, line('gk-inflight', 1));
    await new Promise((r) => setTimeout(r, 300));
    expect(await run.oc.app.repository.completePlacement(place(claimed, new Date()).event, key)).toBe(true);
    const answer = await waiting;
    expect([answer.replayed, answer.order!.id]).toEqual([true, claimed.id]);
    // The claim-path call of this test held no stock; the waiting call gave its own back.
    expect(await stockOf('gk-inflight')).toMatchObject({ available: 10, reserved: 0 });
  });

  it('when a client sends its own key, then the claim path is taken: its refusal is stored and replayed, even after a restock', async () => {
    await product('gk-client', 1);
    const refused = await run.oc.api.placeOrder(placeOrderRequest('gk-hal', line('gk-client', 5), { idempotencyKey: 'client-key' })).catch((e) => e);
    expect(errorDetails.errorReason(refused.metadata)).toBe('insufficient-stock');
    expect((await keyRows('gk-hal', 'client-key'))[0]).toMatchObject({ state: 'DONE' });
    await product('gk-client', 50);
    const again = await run.oc.api.placeOrder(placeOrderRequest('gk-hal', line('gk-client', 5), { idempotencyKey: 'client-key' })).catch((e) => e);
    expect(errorDetails.errorReason(again.metadata)).toBe('insufficient-stock');
  });

  it('when the flag comes without a key, then it is INVALID_ARGUMENT naming the flag', async () => {
    const error = await placeUnder('gk-ivy', '', line('gk-p', 1)).catch((e) => e);
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(errorDetails.readFieldViolations(error.metadata).map((v) => v.field)).toEqual(['idempotency_key_made_by_gateway']);
  });

  describe('the repository write (insertPlacedWithKey)', () => {
    const ids = new ShardedOrderIds();
    const event = (customerId: string, id = ids.next(customerId)): OrderEventRecord => {
      const now = new Date();
      const order: Order = {
        ...newOrder({ customerId, items: [line('gk-direct', 1, 100)], address: 'A', paymentMethod: 'card' }, id, now, 60_000),
        status: 'RESERVED',
        version: 1,
      };
      return { eventId: randomUUID(), kind: 'placed', order, occurredAt: now, changedBy: { kind: 'CUSTOMER', id: customerId }, reason: 'placed' };
    };
    const keyed = (e: OrderEventRecord, key: string) => run.oc.app.repository.insertPlacedWithKey(e, { key, fingerprint: 'f'.repeat(64) });

    it('when the order id is taken, then neither the order nor the key is stored (one transaction)', async () => {
      const taken = event('gk-jon');
      expect(await run.oc.app.repository.insertPlaced(taken)).toBe(true);
      expect(await keyed(event('gk-jon', taken.order.id), 'direct-key')).toEqual({ kind: 'duplicate-id' });
      expect(await keyRows('gk-jon', 'direct-key')).toEqual([]);
      expect(await keyed(event('gk-jon'), 'direct-key')).toEqual({ kind: 'stored' });
    });

    it('when many are written at once on one shard (grouped commits) and one key exists already, then only that one is refused, naming the key, and its neighbours are stored', async () => {
      const first = event('gk-kim');
      expect(await keyed(first, 'burst-0')).toEqual({ kind: 'stored' });
      const burst = Array.from({ length: 40 }, () => event('gk-kim')).map((e, i) => ({ e, key: i === 20 ? 'burst-0' : `burst-${i + 1}` }));
      const results = await Promise.all(burst.map(({ e, key }) => keyed(e, key)));
      expect(results[20]).toMatchObject({ kind: 'existing-key', record: { orderId: first.order.id, state: 'DONE' } });
      expect(results.filter((r) => r.kind === 'stored')).toHaveLength(39);
      const stored = new Set((await ordersOf('gk-kim')).map((o) => o.id));
      expect(stored.size).toBe(40);
      expect(stored.has(burst[20]!.e.order.id)).toBe(false);
      for (const { e, key } of burst.filter((_, i) => i !== 20)) {
        expect((await keyRows('gk-kim', key))[0]).toMatchObject({ state: 'DONE', order_id: e.order.id });
        expect(decodeOrderId(e.order.id).bucket).toBe(decodeOrderId(first.order.id).bucket);
      }
    });
  });
});

describe("a placement under the gateway's own key whose replica dies between Reserve and its write (real servers, a process killed)", () => {
  it("when the replica is killed (SIGKILL) after reserving, then the repeat on another replica places the order at once, and the dead attempt's units come back at its reservation's expiry", async () => {
    const inventory = await startInventoryProcess({ INVENTORY_SWEEP_INTERVAL_MS: '100' });
    const env = orderCommandEnv(inventory.address);
    const survivor = await startOrderCommand(loadConfig(env));
    // The doomed replica's reservations expire 1.5 s after they are made; the survivor's after 20 min.
    const child = spawn(process.execPath, typescriptNodeArgs(path.join(__dirname, 'fixtures', 'stalling-order-command.ts')), {
      env: { ...process.env, ...env, ORDER_COMMAND_ROLES: 'api', ORDER_MIGRATE_ON_START: 'false', PAYMENT_WINDOW_MS: '1000', RESERVATION_GRACE_MS: '500' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const stockOf = async () => (await inventory.api.getProducts({ productIds: ['dies-p'] })).products[0]!;
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /listening (\d+)/.exec(out);
          if (match) resolve(Number(match[1]));
        });
        child.once('exit', (code) => reject(new Error(`the stalling replica exited (${code})`)));
      });
      await inventory.api.upsertProduct({ id: 'dies-p', name: 'dies-p', priceMinor: 1000, available: 10 });
      const body = placeOrderRequest(
        'gk-lou',
        { productId: 'dies-p', quantity: 3, unitPriceMinor: 1000 },
        {
          idempotencyKey: `~gateway:${randomUUID()}`,
          idempotencyKeyMadeByGateway: true,
        },
      );
      const doomed = orderApi(`127.0.0.1:${port}`);
      const cutOff = doomed.placeOrder(body).catch((e: ServiceError) => e);
      for (const deadline = Date.now() + 20_000; (await stockOf()).reserved !== 3; await new Promise((r) => setTimeout(r, 20)))
        if (Date.now() > deadline) throw new Error('the doomed replica did not reserve');
      child.kill('SIGKILL');
      expect(((await cutOff) as ServiceError).code).toBe(status.UNAVAILABLE); // what the gateway sees, and repeats
      doomed.client.close();

      const started = Date.now();
      const repeat = await survivor.api.placeOrder(body);
      expect(Date.now() - started).toBeLessThan(1_500); // no claim to wait for
      expect([repeat.replayed, repeat.order!.status]).toEqual([false, orderV1.OrderStatus.ORDER_STATUS_RESERVED]);
      expect(await stockOf()).toMatchObject({ available: 4, reserved: 6 }); // the dead attempt's units are still held
      expect(await survivor.api.placeOrder(body)).toEqual({ order: repeat.order, replayed: true });

      // Inventory's sweeper releases the dead attempt's reservation at its expiry; the order's units stay held.
      for (const deadline = Date.now() + 20_000; (await stockOf()).reserved !== 3; await new Promise((r) => setTimeout(r, 100)))
        if (Date.now() > deadline) throw new Error("the dead attempt's reservation was not released");
      expect(await stockOf()).toMatchObject({ available: 7, reserved: 3 });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await survivor.stop();
      await inventory.stop();
    }
  });
});
