import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { createSqlPool, dropDatabase, ensureDatabase, migrate, toSqlDateTime } from '@orderflow/database';
import { errorDetails, orderV1 } from '@orderflow/proto';
import { testStack } from '@orderflow/stack';
import mysql from 'mysql2/promise';
import type { Order, OrderEventRecord } from '../src/domain/model';
import { encodeOrderEvent } from '../src/infrastructure/event-codec';
import { ORDER_SHARD_MIGRATIONS } from '../src/infrastructure/mysql/migrations';
import { customer, orderCommandRun, placeOrderRequest } from './support';

const S = orderV1.OrderStatus;
const K = orderV1.ActorKind;
const PAYMENT_WINDOW_MS = 3_000;

describe('order history: who changed an order, when and why (real MariaDB x2 and the inventory process)', () => {
  const run = orderCommandRun({ PAYMENT_WINDOW_MS: String(PAYMENT_WINDOW_MS), RESERVATION_GRACE_MS: '60000' });
  beforeAll(() => run.inventory.api.upsertProduct({ id: 'hist-p', name: 'H', priceMinor: 300, available: 1_000 }));

  const place = async (customerId: string, idempotencyKey = '') =>
    (await run.oc.api.placeOrder(placeOrderRequest(customerId, { productId: 'hist-p', quantity: 1, unitPriceMinor: 300 }, { idempotencyKey }))).order!;
  const history = (orderId: string, actor: orderV1.Actor) => run.oc.api.getOrderHistory({ orderId, actor });
  /** [version, status, actor kind, actor id, reason] per entry. */
  const rowsOf = (entries: orderV1.OrderHistoryEntry[]) => entries.map((e) => [e.version, e.status, e.actorKind, e.actorId, e.reason]);

  it('when an order is placed, paid by its customer and shipped by an admin, then its history holds the three changes in order, with who and why', async () => {
    const order = await place('hana');
    await run.oc.api.payOrder({ orderId: order.id, actor: customer('hana') });
    await run.oc.api.shipOrder({ orderId: order.id, actor: customer('ops-1', true) });

    const { orderId, entries } = await history(order.id, customer('hana'));

    expect(orderId).toBe(order.id);
    expect(rowsOf(entries)).toEqual([
      [1, S.ORDER_STATUS_RESERVED, K.ACTOR_KIND_CUSTOMER, 'hana', 'placed'],
      [2, S.ORDER_STATUS_PAID, K.ACTOR_KIND_CUSTOMER, 'hana', 'paid'],
      [3, S.ORDER_STATUS_SHIPPED, K.ACTOR_KIND_ADMIN, 'ops-1', 'shipped'],
    ]);
    const times = entries.map((e) => e.occurredAt!.getTime());
    expect(times[0]).toBeLessThan(times[1]!);
    expect(times[1]).toBeLessThan(times[2]!);
  });

  it('when an order placed with an idempotency key is cancelled by its customer, then the history says so (a retry adds nothing)', async () => {
    const order = await place('ines', `key-${randomUUID()}`);
    await run.oc.api.cancelOrder({ orderId: order.id, actor: customer('ines') });
    await run.oc.api.cancelOrder({ orderId: order.id, actor: customer('ines') });

    expect(rowsOf((await history(order.id, customer('ines'))).entries)).toEqual([
      [1, S.ORDER_STATUS_RESERVED, K.ACTOR_KIND_CUSTOMER, 'ines', 'placed'],
      [2, S.ORDER_STATUS_CANCELLED, K.ACTOR_KIND_CUSTOMER, 'ines', 'cancelled by the customer'],
    ]);
  });

  it('when an admin cancels an order, then the history names the admin', async () => {
    const order = await place('joel');
    await run.oc.api.cancelOrder({ orderId: order.id, actor: customer('ops-2', true) });

    expect(rowsOf((await history(order.id, customer('joel'))).entries)).toEqual([
      [1, S.ORDER_STATUS_RESERVED, K.ACTOR_KIND_CUSTOMER, 'joel', 'placed'],
      [2, S.ORDER_STATUS_CANCELLED, K.ACTOR_KIND_ADMIN, 'ops-2', 'cancelled by an admin'],
    ]);
  });

  it('when the payment window passes and the sweeper expires an order, then the history says the system did it, with no id', async () => {
    const order = await place('kira');
    await new Promise((r) => setTimeout(r, PAYMENT_WINDOW_MS + 100));
    await run.oc.app.sweeper.sweep();

    const { entries } = await history(order.id, customer('kira'));
    expect(rowsOf(entries)).toEqual([
      [1, S.ORDER_STATUS_RESERVED, K.ACTOR_KIND_CUSTOMER, 'kira', 'placed'],
      [2, S.ORDER_STATUS_EXPIRED, K.ACTOR_KIND_SYSTEM, '', 'payment window expired'],
    ]);
    expect(entries[1]!.occurredAt!.getTime()).toBeGreaterThanOrEqual(order.expiresAt!.getTime());
  });

  it('when another customer asks for a history, then it is NOT_FOUND; an admin may read any; a malformed id is INVALID_ARGUMENT', async () => {
    const order = await place('lena');
    const other = await history(order.id, customer('mallory')).catch((e) => e);
    expect(other.code).toBe(status.NOT_FOUND);
    expect(errorDetails.errorReason(other.metadata)).toBe('not-found');
    expect((await history(order.id, customer('ops-3', true))).entries).toHaveLength(1);
    expect((await history('12345', customer('lena')).catch((e) => e)).code).toBe(status.NOT_FOUND);
    const malformed = await history('not-an-id', customer('lena')).catch((e) => e);
    expect(malformed.code).toBe(status.INVALID_ARGUMENT);
    expect(errorDetails.readFieldViolations(malformed.metadata)).toEqual([expect.objectContaining({ field: 'order_id' })]);
  });

  it('when a keyed placement was refused (the order is FAILED, internal), then its history is NOT_FOUND, even for an admin', async () => {
    const tooMany = placeOrderRequest('milo', { productId: 'hist-p', quantity: 1_000, unitPriceMinor: 300 }, { idempotencyKey: 'too-many' });
    const refused = await run.oc.api.placeOrder(tooMany).catch((e) => e);
    expect(errorDetails.errorReason(refused.metadata)).toBe('insufficient-stock');
    const failedIds: string[] = [];
    for (const shard of run.oc.config.shards) {
      const connection = await mysql.createConnection(shard);
      try {
        const [rows] = await connection.query(`SELECT CAST(id AS CHAR) AS id FROM orders WHERE customer_id = 'milo' AND status = 'FAILED'`);
        failedIds.push(...(rows as { id: string }[]).map((r) => r.id));
      } finally {
        await connection.end();
      }
    }
    expect(failedIds).toHaveLength(1);
    expect((await history(failedIds[0]!, customer('milo')).catch((e) => e)).code).toBe(status.NOT_FOUND);
    expect((await history(failedIds[0]!, customer('ops-4', true)).catch((e) => e)).code).toBe(status.NOT_FOUND);
  });
});

describe('migration 0003-order-history-actor on a shard with history written before it (real MariaDB)', () => {
  const server = testStack.info().mysql[1]!;
  const target = { host: server.host, port: server.port, user: server.user, password: server.password, database: `oc_history_migration_${process.pid}` };
  const before = ORDER_SHARD_MIGRATIONS.filter((m) => m.name < '0003');
  afterAll(() => dropDatabase(target));

  it('when the columns are added, then earlier rows get who and why from what is known: the owner placed and paid, an admin shipped, the system expired, a cancellation as its event says', async () => {
    await dropDatabase(target);
    await ensureDatabase(target);
    const db = createSqlPool(target, { max: 1 });
    try {
      expect(await migrate(target, before)).toEqual(['0001-create-order-shard', '0002-outbox-traceparent']);
      const now = new Date('2026-01-02T03:04:05.678Z');
      // The address says "admin": only the event's own kind may tell who cancelled.
      const order = (id: string, status: Order['status'], version: number): Order => ({
        id,
        customerId: 'olga',
        status,
        items: [],
        totalMinor: 300,
        address: 'admin',
        paymentMethod: 'card',
        version,
        createdAt: now,
        updatedAt: now,
        expiresAt: now,
      });
      // As the code before this migration wrote them: the history row and the outbox event (no actor, no reason).
      const write = async (event: Omit<OrderEventRecord, 'changedBy' | 'reason'>, cancelledBy?: 'ADMIN' | 'CUSTOMER') => {
        const { subject, payload } = encodeOrderEvent({ ...event, changedBy: { kind: cancelledBy ?? 'CUSTOMER' }, reason: '' }, 'orders.v1');
        await db.run([
          {
            sql:
              'INSERT IGNORE INTO orders (id, customer_id, status, total_minor, address, payment_method, version, created_at, updated_at, expires_at) ' +
              "VALUES (?, 'olga', ?, 300, 'A', 'card', ?, ?, ?, ?)",
            values: [event.order.id, event.order.status, event.order.version, toSqlDateTime(now), toSqlDateTime(now), toSqlDateTime(now)],
          },
          {
            sql: `INSERT INTO order_history (order_id, version, status, event_id, occurred_at) VALUES (?, ?, ?, ?, ?)`,
            values: [event.order.id, event.order.version, event.order.status, event.eventId, toSqlDateTime(now)],
          },
          {
            sql: `INSERT INTO outbox (event_id, order_id, subject, payload, created_at) VALUES (?, ?, ?, ?, ?)`,
            values: [event.eventId, event.order.id, subject, payload, toSqlDateTime(now)],
          },
        ]);
      };
      const event = (id: string, kind: OrderEventRecord['kind'], status: Order['status'], version: number) => ({
        eventId: randomUUID(),
        kind,
        order: order(id, status, version),
        occurredAt: now,
      });
      await write(event('1', 'placed', 'RESERVED', 1));
      await write(event('1', 'paid', 'PAID', 2));
      await write(event('1', 'shipped', 'SHIPPED', 3));
      await write(event('2', 'placed', 'RESERVED', 1));
      await write(event('2', 'cancelled', 'CANCELLED', 2), 'ADMIN');
      await write(event('3', 'placed', 'RESERVED', 1));
      await write(event('3', 'cancelled', 'CANCELLED', 2), 'CUSTOMER');
      await write(event('4', 'placed', 'RESERVED', 1));
      await write(event('4', 'expired', 'EXPIRED', 2));

      expect(await migrate(target, ORDER_SHARD_MIGRATIONS)).toEqual(expect.arrayContaining(['0003-order-history-actor']));

      const rows = await db.select<{ order_id: string; version: number; actor_kind: string; actor_id: string | null; reason: string }>(
        `SELECT CAST(order_id AS CHAR) AS order_id, version, actor_kind, actor_id, reason FROM order_history ORDER BY order_id, version`,
      );
      expect(rows.map((r) => [r.order_id, r.version, r.actor_kind, r.actor_id, r.reason])).toEqual([
        ['1', 1, 'CUSTOMER', 'olga', 'placed'],
        ['1', 2, 'CUSTOMER', 'olga', 'paid'],
        ['1', 3, 'ADMIN', null, 'shipped'],
        ['2', 1, 'CUSTOMER', 'olga', 'placed'],
        ['2', 2, 'ADMIN', null, 'cancelled by an admin'],
        ['3', 1, 'CUSTOMER', 'olga', 'placed'],
        ['3', 2, 'CUSTOMER', 'olga', 'cancelled by the customer'],
        ['4', 1, 'CUSTOMER', 'olga', 'placed'],
        ['4', 2, 'SYSTEM', null, 'payment window expired'],
      ]);
    } finally {
      await db.end();
    }
  });
});
