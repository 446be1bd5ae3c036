import { status } from '@grpc/grpc-js';
import { errorDetails, inventoryV1 } from '@orderflow/proto';
import { expectConserved, failure, inMinutes, RunningInventory, startInventory } from './support';

const { RESERVATION_STATUS_RESERVED: RESERVED, RESERVATION_STATUS_COMMITTED: COMMITTED, RESERVATION_STATUS_RELEASED: RELEASED } = inventoryV1.ReservationStatus;

describe('inventory Reserve, Commit and Release over gRPC (real MariaDB and Redis)', () => {
  let inv: RunningInventory;
  beforeAll(async () => {
    inv = await startInventory();
  });
  afterAll(() => inv.stop());

  const product = async (id: string, available: number, priceMinor = 1999) =>
    (await inv.api.upsertProduct({ id, name: `Product ${id}`, priceMinor, available })).product!;
  const get = async (...ids: string[]) => (await inv.api.getProducts({ productIds: ids })).products;
  /** Reserve for ten minutes; items as [product id, quantity]. */
  const reserve = (orderId: string, items: [string, number][], more: Partial<inventoryV1.ReserveRequest> = {}) =>
    inv.api.reserve({ orderId, items: items.map(([productId, quantity]) => ({ productId, quantity })), expiresAt: inMinutes(10), ...more });

  it('when a product is upserted twice, then it is created then updated and received tracks the stock added', async () => {
    const first = await inv.api.upsertProduct({ id: 'up-1', name: 'Mug', priceMinor: 1200, available: 10 });
    const second = await inv.api.upsertProduct({ id: 'up-1', name: 'Big mug', priceMinor: 1500, available: 25 });
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.product).toMatchObject({ name: 'Big mug', priceMinor: 1500, available: 25, received: 25, reserved: 0, sold: 0 });
  });

  it('when items repeat a product, then they are summed and the reservation holds stock for all of them', async () => {
    await product('sum-1', 10);
    await product('sum-2', 10);
    const { reservation } = await reserve('o-sum', [
      ['sum-2', 1],
      ['sum-1', 2],
      ['sum-1', 3],
    ]);
    expect(reservation).toMatchObject({
      status: RESERVED,
      items: [
        { productId: 'sum-1', quantity: 5 },
        { productId: 'sum-2', quantity: 1 },
      ],
    });
    expect((await get('sum-1', 'sum-2')).map((p) => [p.id, p.available, p.reserved])).toEqual([
      ['sum-1', 5, 5],
      ['sum-2', 9, 1],
    ]);
  });

  it('when one item is short, then nothing is reserved and the error names each short product with what is available', async () => {
    await product('aon-1', 10);
    await product('aon-2', 1);
    await product('aon-3', 0);
    const items: [string, number][] = [
      ['aon-1', 5],
      ['aon-2', 2],
      ['aon-3', 1],
    ];
    const error = await failure(reserve('o-aon', items));
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(errorDetails.readInsufficientStock(error.metadata)).toEqual([
      { productId: 'aon-2', requested: 2, available: 1 },
      { productId: 'aon-3', requested: 1, available: 0 },
    ]);
    expect(error.details).toContain('aon-2');
    expect((await get('aon-1', 'aon-2', 'aon-3')).map((p) => p.available)).toEqual([10, 1, 0]);
    // The refused order id is not burnt: once stock allows, the same id reserves.
    await product('aon-2', 5);
    await product('aon-3', 5);
    const retried = await reserve('o-aon', items);
    expect(retried.reservation?.status).toBe(RESERVED);
  });

  it('when a product is unknown, then Reserve is NOT_FOUND naming it and nothing changes', async () => {
    await product('nf-1', 3);
    const error = await failure(
      reserve('o-nf', [
        ['nf-1', 1],
        ['nf-missing', 1],
      ]),
    );
    expect(error.code).toBe(status.NOT_FOUND);
    expect(error.details).toContain('nf-missing');
    expect((await get('nf-1'))[0]?.available).toBe(3);
  });

  it.each([
    ['no items', { orderId: 'o-bad', items: [], expiresAt: inMinutes(1) }, 'items'],
    ['a zero quantity', { orderId: 'o-bad', items: [{ productId: 'x', quantity: 0 }], expiresAt: inMinutes(1) }, 'items[0].quantity'],
    ['a negative quantity', { orderId: 'o-bad', items: [{ productId: 'x', quantity: -3 }], expiresAt: inMinutes(1) }, 'items[0].quantity'],
    ['an empty order id', { orderId: '', items: [{ productId: 'x', quantity: 1 }], expiresAt: inMinutes(1) }, 'order_id'],
    ['a product id with spaces', { orderId: 'o-bad', items: [{ productId: 'a b', quantity: 1 }], expiresAt: inMinutes(1) }, 'items[0].product_id'],
    ['no expiry', { orderId: 'o-bad', items: [{ productId: 'x', quantity: 1 }], expiresAt: undefined }, 'expires_at'],
    ['an expiry in the past', { orderId: 'o-bad', items: [{ productId: 'x', quantity: 1 }], expiresAt: new Date(Date.now() - 1000) }, 'expires_at'],
  ])('when the request has %s, then it is INVALID_ARGUMENT naming the field', async (_, request, field) => {
    const error = await failure(inv.api.reserve(request as inventoryV1.ReserveRequest));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toContain(field);
  });

  it('when Reserve, Commit and Release are retried, then each returns the same result and changes stock once', async () => {
    await product('idem-1', 10);
    await product('idem-2', 10);
    const request = { orderId: 'o-idem', items: [{ productId: 'idem-1', quantity: 2 }], expiresAt: inMinutes(10) };
    const reserves = await Promise.all([inv.api.reserve(request), inv.api.reserve(request), inv.api.reserve(request)]);
    expect(new Set(reserves.map((r) => JSON.stringify(r.reservation))).size).toBe(1);
    expect((await get('idem-1'))[0]).toMatchObject({ available: 8, reserved: 2 });

    const commits = await Promise.all([inv.api.commit({ orderId: 'o-idem' }), inv.api.commit({ orderId: 'o-idem' })]);
    expect(commits.map((c) => c.reservation?.status)).toEqual([COMMITTED, COMMITTED]);
    expect((await inv.api.commit({ orderId: 'o-idem' })).reservation?.status).toBe(COMMITTED);
    expect((await get('idem-1'))[0]).toMatchObject({ available: 8, reserved: 0, sold: 2 });
    // A retried Reserve after the sale still answers with the stored reservation and reserves nothing more.
    expect((await inv.api.reserve(request)).reservation?.status).toBe(COMMITTED);
    expect((await get('idem-1'))[0]).toMatchObject({ available: 8, reserved: 0, sold: 2 });

    const other = { orderId: 'o-idem-2', items: [{ productId: 'idem-2', quantity: 4 }], expiresAt: inMinutes(10) };
    await inv.api.reserve(other);
    const releases = await Promise.all([1, 2, 3].map(() => inv.api.release({ orderId: 'o-idem-2', reason: 'cancelled' })));
    expect(releases.map((r) => r.reservation?.status)).toEqual([RELEASED, RELEASED, RELEASED]);
    expect((await get('idem-2'))[0]).toMatchObject({ available: 10, reserved: 0, sold: 0 });
    expectConserved(await get('idem-1', 'idem-2'));
  });

  it('when an order id is reused with other items, then it is ALREADY_EXISTS and nothing more is reserved', async () => {
    await product('reuse-1', 10);
    await reserve('o-reuse', [['reuse-1', 1]]);
    const error = await failure(reserve('o-reuse', [['reuse-1', 2]]));
    expect(error.code).toBe(status.ALREADY_EXISTS);
    expect((await get('reuse-1'))[0]).toMatchObject({ available: 9, reserved: 1 });
  });

  it('when an expected price differs, then Reserve is FAILED_PRECONDITION price-changed naming it, and nothing is reserved (one item or several)', async () => {
    await product('price-1', 10, 500);
    await product('price-2', 10, 700);
    const single = await failure(reserve('o-price-1', [['price-1', 1]], { expectedPrices: [{ productId: 'price-1', unitPriceMinor: 450 }] }));
    const several = await failure(
      reserve(
        'o-price-2',
        [
          ['price-1', 1],
          ['price-2', 1],
        ],
        {
          expectedPrices: [
            { productId: 'price-1', unitPriceMinor: 500 },
            { productId: 'price-2', unitPriceMinor: 650 },
          ],
        },
      ),
    );
    for (const [error, mismatch] of [
      [single, { productId: 'price-1', expectedUnitPriceMinor: 450, currentUnitPriceMinor: 500 }],
      [several, { productId: 'price-2', expectedUnitPriceMinor: 650, currentUnitPriceMinor: 700 }],
    ] as const) {
      expect(error.code).toBe(status.FAILED_PRECONDITION);
      expect(errorDetails.errorReason(error.metadata)).toBe('price-changed');
      expect(errorDetails.readPriceMismatches(error.metadata)).toEqual([mismatch]);
    }
    expect((await get('price-1', 'price-2')).map((p) => [p.available, p.reserved])).toEqual([
      [10, 0],
      [10, 0],
    ]);
    // The same orders at the right prices go through.
    await reserve('o-price-1', [['price-1', 1]], { expectedPrices: [{ productId: 'price-1', unitPriceMinor: 500 }] });
    expect((await get('price-1'))[0]).toMatchObject({ available: 9, reserved: 1 });
  });

  it('when concurrent Reserves of one product expect different prices, then only the stale ones fail and the rest are filled', async () => {
    await product('price-hot', 50, 900);
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        reserve(`o-ph-${i}`, [['price-hot', 1]], { expectedPrices: [{ productId: 'price-hot', unitPriceMinor: i % 4 === 0 ? 800 : 900 }] }),
      ),
    );
    const refused = results.flatMap((r, i) => (r.status === 'rejected' ? [[i, errorDetails.errorReason((r.reason as { metadata: never }).metadata)]] : []));
    expect(refused).toEqual(Array.from({ length: 10 }, (_, k) => [k * 4, 'price-changed']));
    expect((await get('price-hot'))[0]).toMatchObject({ available: 20, reserved: 30 });
  });

  it('when a second placement made the same order id, then its Reserve is ALREADY_EXISTS, the first can retry, and nothing is held twice', async () => {
    await product('place-1', 10);
    const request = { orderId: 'o-place', items: [{ productId: 'place-1', quantity: 2 }], expiresAt: inMinutes(10) };
    await inv.api.reserve({ ...request, placementId: 'attempt-a' });
    expect((await failure(inv.api.reserve({ ...request, placementId: 'attempt-b' }))).code).toBe(status.ALREADY_EXISTS);
    expect((await inv.api.reserve({ ...request, placementId: 'attempt-a' })).reservation?.status).toBe(RESERVED);
    // A released id stays taken for any new placement.
    await inv.api.release({ orderId: 'o-place-gone', reason: 'order-write-failed' });
    const reused = await failure(inv.api.reserve({ ...request, orderId: 'o-place-gone', placementId: 'attempt-c' }));
    expect(reused.code).toBe(status.ALREADY_EXISTS);
    expect((await get('place-1'))[0]).toMatchObject({ available: 8, reserved: 2 });
  });

  it('when a reservation is in the wrong state, then Commit or Release is FAILED_PRECONDITION and changes nothing', async () => {
    await product('state-1', 10);
    await reserve('o-sold', [['state-1', 1]]);
    await inv.api.commit({ orderId: 'o-sold' });
    expect((await inv.api.release({ orderId: 'o-sold', reason: 'cancelled' }).catch((e) => e)).code).toBe(status.FAILED_PRECONDITION);
    await reserve('o-gone', [['state-1', 2]]);
    await inv.api.release({ orderId: 'o-gone', reason: 'cancelled' });
    expect((await inv.api.commit({ orderId: 'o-gone' }).catch((e) => e)).code).toBe(status.FAILED_PRECONDITION);
    expect((await get('state-1'))[0]).toMatchObject({ available: 9, reserved: 0, sold: 1 });
    expect((await inv.api.commit({ orderId: 'o-never' }).catch((e) => e)).code).toBe(status.NOT_FOUND);
  });

  it('when an order is released before its Reserve arrives, then the late Reserve holds nothing', async () => {
    await product('late-1', 5);
    expect((await inv.api.release({ orderId: 'o-late', reason: 'order-write-failed' })).reservation?.status).toBe(RELEASED);
    const error = await failure(reserve('o-late', [['late-1', 1]]));
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect((await get('late-1'))[0]).toMatchObject({ available: 5, reserved: 0 });
  });

  it('when reservations expire, then the sweeper releases them once and leaves live and sold ones alone', async () => {
    await product('exp-1', 10);
    const soon = new Date(Date.now() + 300);
    await inv.api.reserve({ orderId: 'o-exp-a', items: [{ productId: 'exp-1', quantity: 2 }], expiresAt: soon });
    await inv.api.reserve({ orderId: 'o-exp-b', items: [{ productId: 'exp-1', quantity: 3 }], expiresAt: soon });
    await inv.api.reserve({ orderId: 'o-exp-paid', items: [{ productId: 'exp-1', quantity: 1 }], expiresAt: soon });
    await inv.api.commit({ orderId: 'o-exp-paid' });
    await reserve('o-exp-live', [['exp-1', 1]]);
    await new Promise((r) => setTimeout(r, 400));
    const swept = await Promise.all([inv.app.sweeper.sweep(), inv.app.sweeper.sweep()]);
    expect(swept[0] + swept[1]).toBeGreaterThanOrEqual(2);
    expect((await get('exp-1'))[0]).toMatchObject({ available: 8, reserved: 1, sold: 1, received: 10 });
    expect((await inv.api.commit({ orderId: 'o-exp-a' }).catch((e) => e)).code).toBe(status.FAILED_PRECONDITION);
    expect(await inv.app.sweeper.sweep()).toBe(0);
  });

  it('when a reservation is prepared for commit, then the sweeper never releases it past its expiry, and only Commit or Release end it', async () => {
    await product('prep-1', 10);
    const soon = new Date(Date.now() + 300);
    await inv.api.reserve({ orderId: 'o-prep-a', items: [{ productId: 'prep-1', quantity: 2 }], expiresAt: soon });
    await inv.api.reserve({ orderId: 'o-prep-b', items: [{ productId: 'prep-1', quantity: 3 }], expiresAt: soon });
    const prepared = await inv.api.prepareCommit({ orderId: 'o-prep-a' });
    expect(prepared.reservation).toMatchObject({ status: RESERVED, expiresAt: undefined });
    expect((await inv.api.prepareCommit({ orderId: 'o-prep-a' })).reservation).toMatchObject({ status: RESERVED, expiresAt: undefined });
    await inv.api.prepareCommit({ orderId: 'o-prep-b' });
    await new Promise((r) => setTimeout(r, 400));
    expect(await inv.app.sweeper.sweep()).toBe(0);
    expect((await get('prep-1'))[0]).toMatchObject({ available: 5, reserved: 5, sold: 0 });
    await inv.api.commit({ orderId: 'o-prep-a' });
    await inv.api.release({ orderId: 'o-prep-b', reason: 'cancelled' });
    expect((await get('prep-1'))[0]).toMatchObject({ available: 8, reserved: 0, sold: 2, received: 10 });
    expect((await inv.api.prepareCommit({ orderId: 'o-prep-a' })).reservation).toMatchObject({ status: COMMITTED });
  });

  it('when a released or unknown reservation is prepared for commit, then it is FAILED_PRECONDITION or NOT_FOUND and nothing changes', async () => {
    await product('prep-2', 4);
    await reserve('o-prep-rel', [['prep-2', 1]]);
    await inv.api.release({ orderId: 'o-prep-rel', reason: 'cancelled' });
    const released = await inv.api.prepareCommit({ orderId: 'o-prep-rel' }).catch((e) => e);
    expect(released.code).toBe(status.FAILED_PRECONDITION);
    expect(errorDetails.errorReason(released.metadata)).toBe('reservation-state');
    expect((await inv.api.prepareCommit({ orderId: 'o-prep-none' }).catch((e) => e)).code).toBe(status.NOT_FOUND);
    expect((await get('prep-2'))[0]).toMatchObject({ available: 4, reserved: 0, sold: 0 });
  });
});
