import {
  checkAcknowledgedNotLost,
  checkFaultCosts,
  checkKeysAndOrders,
  checkReadSide,
  checkServedAtEnd,
  checkStock,
  checkUnknownsResolved,
  OrderRow,
  Snapshot,
  unsettled,
} from './checks';
import type { Attempt, Operation, WindowStats } from './ledger';

const at = (answer: Partial<Attempt>, retry = false): Attempt => ({ sentAt: 1, endedAt: 2, retry, ...answer });
const place = (customer: string, key: string, ...attempts: Attempt[]): Operation => ({ kind: 'place', customer, key, body: {}, attempts });
const order = (id: string, status: string, items: [string, number][], extra: Partial<OrderRow> = {}): OrderRow => ({
  id,
  customer: 'c1',
  status,
  version: 1,
  items: items.map(([productId, quantity]) => ({ productId, quantity })),
  stockAction: null,
  stockSettled: false,
  ...extra,
});
const snapshot = (over: Partial<Snapshot> = {}): Snapshot => ({ orders: [], views: [], keys: [], products: [], outboxRows: 0, unsentOutbox: 0, ...over });

describe('the stock check', () => {
  // 100 added: RESERVED 3 + PAID 2 + SHIPPED 1 hold 6 units; CANCELLED, EXPIRED, FAILED and PENDING hold none.
  const orders = [
    order('1', 'RESERVED', [['p', 3]]),
    order(
      '2',
      'PAID',
      [
        ['p', 2],
        ['q', 5],
      ],
      { stockAction: 'COMMIT', stockSettled: true },
    ),
    order('3', 'SHIPPED', [['p', 1]], { version: 3 }),
    order('4', 'CANCELLED', [['p', 7]], { stockAction: 'RELEASE', stockSettled: true }),
    order('5', 'EXPIRED', [['p', 4]], { stockAction: 'RELEASE', stockSettled: true }),
    order('6', 'FAILED', [['p', 9]]),
  ];
  const added = new Map([['p', 100]]);

  it('when available + reserved + sold = added and the holding orders hold exactly added - available, then it passes', () => {
    const [check] = checkStock(added, snapshot({ orders, products: [{ id: 'p', available: 94, reserved: 3, sold: 3, received: 100 }] }));
    expect(check).toMatchObject({ pass: true });
    expect(check!.detail).toContain('added - available = 6, held by orders 6');
  });

  it('when inventory holds a unit no order holds (a leaked reservation), then it fails naming both figures', () => {
    const [check] = checkStock(added, snapshot({ orders, products: [{ id: 'p', available: 93, reserved: 4, sold: 3, received: 100 }] }));
    expect(check).toMatchObject({ pass: false });
    expect(check!.detail).toContain('added - available = 7, held by orders 6; reserved 4 (RESERVED orders 3)');
  });

  it("when a PAID order's units are still counted reserved (Commit owed), then it fails: sold must match PAID and SHIPPED orders", () => {
    expect(checkStock(added, snapshot({ orders, products: [{ id: 'p', available: 94, reserved: 5, sold: 1, received: 100 }] }))[0]!.pass).toBe(false);
  });

  it("when inventory's received differs from what the run added, or available is negative, then it fails", () => {
    expect(checkStock(added, snapshot({ orders, products: [{ id: 'p', available: 94, reserved: 3, sold: 3, received: 101 }] }))[0]!.pass).toBe(false);
    expect(checkStock(new Map([['p', 0]]), snapshot({ orders: [], products: [{ id: 'p', available: -1, reserved: 1, sold: 0, received: 0 }] }))[0]!.pass).toBe(
      false,
    );
  });
});

describe('the keys check', () => {
  const ops = [
    place('c1', 'k1', at({ error: 'ECONNRESET' }), at({ status: 201, orderId: '10' }, true), at({ status: 201, orderId: '10' }, true)),
    place('c1', 'k2', at({ status: 409, problemType: '/problems/insufficient-stock' })),
    place('c2', 'k3', at({ status: 201, orderId: '11' })),
  ];
  const stored = [order('10', 'RESERVED', [['p', 1]]), order('11', 'PAID', [['p', 1]]), order('12', 'FAILED', [['p', 1]])];

  it('when each acknowledged key has one order and nothing else is stored (FAILED placements do not count), then it passes', () => {
    expect(checkKeysAndOrders(ops, snapshot({ orders: stored, keys: [{ customer: 'c1', key: 'k1', orderId: '10', state: 'DONE' }] }))).toMatchObject({
      pass: true,
    });
  });

  it('when a retry of a key was answered with another order, then it fails', () => {
    const twice = [...ops, place('c1', 'k4', at({ status: 201, orderId: '13' }), at({ status: 201, orderId: '14' }, true))];
    const check = checkKeysAndOrders(twice, snapshot({ orders: [...stored, order('13', 'RESERVED', []), order('14', 'RESERVED', [])] }));
    expect(check.pass).toBe(false);
    expect(check.detail).toContain('keys with two orders: 1 (e.g. c1/k4)');
  });

  it('when an order is stored that no client was told of, or an acknowledged one is missing, then it fails naming them', () => {
    const check = checkKeysAndOrders(ops, snapshot({ orders: [order('10', 'RESERVED', []), order('99', 'RESERVED', [])] }));
    expect(check.pass).toBe(false);
    expect(check.detail).toContain('stored, never acknowledged: 1 (e.g. 99); acknowledged, not stored: 1 (e.g. 11)');
  });

  it('when a key was answered 409 at first and 201 on a retry, then it fails (not the original answer)', () => {
    const flip = [place('c1', 'k1', at({ status: 409, problemType: '/problems/insufficient-stock' }), at({ status: 201, orderId: '10' }, true))];
    expect(checkKeysAndOrders(flip, snapshot({ orders: [order('10', 'RESERVED', [])] })).detail).toContain(
      'keys answered again (retried or replayed): 1, of them differently: 1',
    );
  });
});

describe('the other checks', () => {
  it("when an acknowledged order is unreadable or missing from its owner's listing, then it is lost", () => {
    const ops = [place('c1', 'k1', at({ status: 201, orderId: '10' })), place('c1', 'k2', at({ status: 201, orderId: '11' }))];
    expect(
      checkAcknowledgedNotLost(ops, {
        readable: new Map([
          ['10', true],
          ['11', true],
        ]),
        listed: new Map([['c1', new Set(['10', '11'])]]),
      }).pass,
    ).toBe(true);
    const lost = checkAcknowledgedNotLost(ops, {
      readable: new Map([
        ['10', true],
        ['11', false],
      ]),
      listed: new Map([['c1', new Set(['10'])]]),
    });
    expect(lost).toMatchObject({
      pass: false,
      detail: "2 orders answered 201; not readable by the owner: 1 (e.g. 11); missing from the owner's listing: 1 (e.g. 11)",
    });
  });

  it('when an operation has only unknown answers, then the unknowns check fails', () => {
    expect(checkUnknownsResolved([place('c1', 'k', at({ status: 503 }), at({ status: 201, orderId: '1' }, true))]).pass).toBe(true);
    expect(checkUnknownsResolved([place('c1', 'k', at({ status: 503 }), at({ error: 'timeout' }, true))])).toMatchObject({
      pass: false,
      detail: '1 operations had an unknown answer (1 place, 0 pay, 0 cancel); 1 still unknown after the retries',
    });
  });

  it('when a view is behind its order, or an outbox row unpublished, then the read side check fails; settled lists what still moves', () => {
    const orders = [order('1', 'PAID', [], { version: 2, stockAction: 'COMMIT', stockSettled: false }), order('2', 'PENDING', [])];
    const s = snapshot({
      orders,
      views: [{ id: '1', customer: 'c1', status: 'RESERVED', version: 1 }],
      keys: [{ customer: 'c1', key: 'k', orderId: '2', state: 'IN_FLIGHT' }],
      outboxRows: 2,
      unsentOutbox: 1,
    });
    expect(checkReadSide(s).pass).toBe(false);
    expect(unsettled(s)).toEqual([
      '1 placements in flight (PENDING)',
      '1 keys in flight',
      '1 Commit/Release owed to inventory',
      '1 unpublished outbox rows',
      '1 views behind',
    ]);
    const caughtUp = snapshot({
      orders: [order('1', 'PAID', [], { version: 2 })],
      views: [{ id: '1', customer: 'c1', status: 'PAID', version: 2 }],
      outboxRows: 2,
    });
    expect(checkReadSide(caughtUp).pass).toBe(true);
    expect(unsettled(caughtUp)).toEqual([]);
  });

  it('when a service fault cost a 5xx or a transport error, then it fails only if the fault is held to none (servers are not held)', () => {
    const stats = [
      { fault: 'term:gateway', server5xx: 0, transportErrors: 40 },
      { fault: 'term:inventory', server5xx: 12 },
      { fault: 'kill:gateway', server5xx: 0, transportErrors: 3 },
      { fault: 'kill:orderQuery', transportErrors: 1 },
      { fault: 'kill:redis', server5xx: 40 },
    ].map((s) => ({ requests: 100, ok2xx: 0, client4xx: 0, server5xx: 0, transportErrors: 0, failures: {}, unknownBefore: 0, ...s }) as WindowStats);
    const one = checkFaultCosts(stats, 1);
    expect(one.map((c) => [c.pass, c.informational ?? false])).toEqual([
      [true, false],
      [true, true],
      [true, true],
      [true, true],
    ]);
    const two = checkFaultCosts(stats, 2);
    expect(two.map((c) => c.pass)).toEqual([false, false, true, false]);
    expect(two.map((c) => c.name)).toContain('kill:gateway costs no 5xx (requests in flight on the killed process are reset)');
  });

  it('when the last placements are all 201 and quick, then the system serves normally', () => {
    expect(checkServedAtEnd([201, 201], 300).pass).toBe(true);
    expect(checkServedAtEnd([201, 503], 300).pass).toBe(false);
    expect(checkServedAtEnd([201], 5_000).pass).toBe(false);
  });
});
