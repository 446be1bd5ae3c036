import path from 'node:path';
import { credentials, loadPackageDefinition, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import mysql from 'mysql2/promise';
import { errorDetails, inventoryV1, PROTO_ROOT } from '@orderflow/proto';
import { entryError, unaryCaller } from '@orderflow/service-kit';
import { expectConserved, failure, inMinutes, RunningInventory, startInventory } from './support';

const { RESERVATION_STATUS_RESERVED: RESERVED } = inventoryV1.ReservationStatus;

/** What a caller can tell of an error: code, message and the contract's metadata (reason and details). */
const visible = (error: ServiceError) => ({
  code: error.code,
  details: error.details,
  metadata: Object.fromEntries(Object.entries(error.metadata.toJSON()).filter(([key]) => key.startsWith('orderflow-'))),
});

describe('inventory ReserveBatch over gRPC (real MariaDB and Redis)', () => {
  let inv: RunningInventory;
  let client: inventoryV1.InventoryServiceClient;
  let reserveBatch: (request: inventoryV1.ReserveBatchRequest) => Promise<inventoryV1.ReserveBatchResponse>;
  beforeAll(async () => {
    inv = await startInventory();
    client = new inventoryV1.InventoryServiceClient(inv.address, credentials.createInsecure());
    reserveBatch = unaryCaller(client, { deadlineMs: 30_000, isCutOff: () => false })('reserveBatch', { repeatIfCutOff: false });
  });
  afterAll(async () => {
    client?.close();
    await inv?.stop();
  });

  const product = (id: string, available: number, priceMinor = 1000) => inv.api.upsertProduct({ id, name: id, priceMinor, available });
  const stock = async (...ids: string[]) => (await inv.api.getProducts({ productIds: ids })).products;
  /** A Reserve request for ten minutes; items as [product id, quantity]. */
  const request = (orderId: string, items: [string, number][], more: Partial<inventoryV1.ReserveRequest> = {}): inventoryV1.ReserveRequest => ({
    orderId,
    items: items.map(([productId, quantity]) => ({ productId, quantity })),
    expiresAt: inMinutes(10),
    expectedPrices: [],
    placementId: '',
    ...more,
  });
  const batch = (...requests: inventoryV1.ReserveRequest[]) => reserveBatch({ entries: requests.map((r) => ({ request: r, context: undefined })) });
  const lockAcquisitions = async () =>
    (await inv.app.metrics.getSingleMetric('orderflow_inventory_lock_wait_seconds')!.get()).values.find((v) =>
      (v as { metricName?: string }).metricName?.endsWith('_count'),
    )!.value;
  const codes = (response: inventoryV1.ReserveBatchResponse) => response.results.map((r) => r.status?.code);

  it('when one batch mixes outcomes, then each entry is answered alone, with exactly the status and details its own Reserve gets', async () => {
    await product('mix-ok', 10);
    await product('mix-short', 1);
    await product('mix-price', 10, 1500);
    await inv.api.reserve(request('mix-taken', [['mix-ok', 1]], { placementId: 'first-placement' }));
    const requests = [
      request('mix-1', [['mix-ok', 2]]),
      request('mix-2', [['mix-short', 2]]),
      request('mix-3', [['mix-unknown', 1]]),
      request('mix-4', [['mix-price', 1]], { expectedPrices: [{ productId: 'mix-price', unitPriceMinor: 1400 }] }),
      request('mix-taken', [['mix-ok', 1]], { placementId: 'another-placement' }),
      request('mix-5', [['mix-ok', 0]]),
    ];
    const response = await batch(...requests);
    expect(codes(response)).toEqual([
      status.OK,
      status.FAILED_PRECONDITION,
      status.NOT_FOUND,
      status.FAILED_PRECONDITION,
      status.ALREADY_EXISTS,
      status.INVALID_ARGUMENT,
    ]);
    expect(response.results[0]!.response!.reservation).toMatchObject({ orderId: 'mix-1', status: RESERVED, items: [{ productId: 'mix-ok', quantity: 2 }] });
    const errors = response.results.slice(1).map((r) => entryError(r.status!));
    expect(errors.map((e) => errorDetails.errorReason(e.metadata))).toEqual([
      'insufficient-stock',
      'not-found',
      'price-changed',
      'reservation-mismatch',
      'invalid-argument',
    ]);
    expect(errorDetails.readInsufficientStock(errors[0]!.metadata)).toEqual([{ productId: 'mix-short', requested: 2, available: 1 }]);
    expect(errorDetails.readProductIds(errors[1]!.metadata)).toEqual(['mix-unknown']);
    expect(errorDetails.readPriceMismatches(errors[2]!.metadata)).toEqual([
      { productId: 'mix-price', expectedUnitPriceMinor: 1400, currentUnitPriceMinor: 1500 },
    ]);
    // The same requests one Reserve each (a refusal changed nothing; the reserved one replays): the same answers.
    for (const [i, r] of requests.entries()) {
      if (i === 0) expect((await inv.api.reserve(r)).reservation).toEqual(response.results[0]!.response!.reservation);
      else expect(visible(errors[i - 1]!)).toEqual(visible(await failure(inv.api.reserve(r))));
    }
    expect((await stock('mix-ok', 'mix-short', 'mix-price')).map((p) => [p.id, p.available, p.reserved])).toEqual([
      ['mix-ok', 7, 3],
      ['mix-price', 10, 0],
      ['mix-short', 1, 0],
    ]);
  });

  it('when an entry of two items is short on one, then it holds neither, and the entries beside it are reserved', async () => {
    await product('aon-a', 5);
    await product('aon-b', 1);
    const response = await batch(
      request('aon-1', [['aon-a', 1]]),
      request('aon-2', [
        ['aon-a', 2],
        ['aon-b', 2],
      ]),
      request('aon-3', [
        ['aon-a', 1],
        ['aon-b', 1],
      ]),
    );
    expect(codes(response)).toEqual([status.OK, status.FAILED_PRECONDITION, status.OK]);
    expect(errorDetails.readInsufficientStock(entryError(response.results[1]!.status!).metadata)).toEqual([{ productId: 'aon-b', requested: 2, available: 1 }]);
    const products = await stock('aon-a', 'aon-b');
    expect(products.map((p) => [p.id, p.available, p.reserved])).toEqual([
      ['aon-a', 3, 2],
      ['aon-b', 0, 1],
    ]);
    expectConserved(products);
  });

  it('when the same entry comes twice in a batch and again later, then stock is held once and every answer is that reservation', async () => {
    await product('idem-p', 10);
    const same = request('idem-1', [['idem-p', 3]]);
    const first = await batch(same, same, request('idem-2', [['idem-p', 1]]));
    expect(codes(first)).toEqual([status.OK, status.OK, status.OK]);
    expect(first.results[1]!.response).toEqual(first.results[0]!.response);
    const again = await batch(same);
    expect(again.results[0]!.response).toEqual(first.results[0]!.response);
    expect(await stock('idem-p')).toMatchObject([{ available: 6, reserved: 4 }]);
  });

  it('when stock runs out mid-batch, then the entries are served first come, first served in entry order, under one lock', async () => {
    await product('fcfs-p', 5);
    const quantities = [2, 1, 3, 1, 1, 2, 1];
    const locksBefore = await lockAcquisitions();
    const response = await batch(...quantities.map((q, i) => request(`fcfs-${i}`, [['fcfs-p', q]])));
    // The entries reached the reserve batcher together: one lock and one transaction for all of them.
    expect((await lockAcquisitions()) - locksBefore).toBe(1);
    // 2 + 1 fit, 3 does not (2 left), 1 + 1 fit, then none is left.
    expect(codes(response)).toEqual([
      status.OK,
      status.OK,
      status.FAILED_PRECONDITION,
      status.OK,
      status.OK,
      status.FAILED_PRECONDITION,
      status.FAILED_PRECONDITION,
    ]);
    expect(errorDetails.readInsufficientStock(entryError(response.results[2]!.status!).metadata)).toEqual([
      { productId: 'fcfs-p', requested: 3, available: 2 },
    ]);
    expect(await stock('fcfs-p')).toMatchObject([{ available: 0, reserved: 5 }]);
  });

  /**
   * An inventory whose first batch meets a writer whose lock expired (simulated): `sql` runs on the product
   * between that batch's read and its takes. Returns the answers of `requests` sent as one ReserveBatch.
   */
  async function raceFirstBatch(sql: string, available: number, requests: inventoryV1.ReserveRequest[]) {
    let raced = false;
    const racing = await startInventory({
      hooks: {
        beforeStockWrite: async () => {
          if (raced) return;
          raced = true;
          const { host, port, user, password, database } = racing.config.mysql;
          const connection = await mysql.createConnection({ host, port, user, password, database });
          await connection.query(sql);
          await connection.end();
        },
      },
    });
    const racingClient = new inventoryV1.InventoryServiceClient(racing.address, credentials.createInsecure());
    try {
      await racing.api.upsertProduct({ id: 'race-p', name: 'race-p', priceMinor: 1000, available });
      const call = unaryCaller(racingClient, { deadlineMs: 30_000, isCutOff: () => false })('reserveBatch', { repeatIfCutOff: false });
      const response = await call({ entries: requests.map((r) => ({ request: r, context: undefined })) });
      expect(raced).toBe(true);
      const [row] = (await racing.api.getProducts({ productIds: ['race-p'] })).products;
      expectConserved([row!]);
      const held = await Promise.all(
        requests.map((r) =>
          racing.api.commit({ orderId: r.orderId }).then(
            () => true,
            () => false,
          ),
        ),
      );
      return { response, row: row!, held };
    } finally {
      racingClient.close();
      await racing.stop();
    }
  }

  it('when another writer takes stock between the batch read and its write, then the write round trip aborts by itself and the batch runs again on fresh stock', async () => {
    const requests = [1, 2, 3, 4].map((i) => request(`race-${i}`, [['race-p', 1]]));
    const taken = "UPDATE products SET available = available - 3, reserved = reserved + 3, version = version + 1 WHERE id = 'race-p'";
    const { response, row, held } = await raceFirstBatch(taken, 5, requests);
    // The first attempt saw 5 units and granted all four, but wrote nothing; the second saw 2: first come, first served.
    expect(codes(response)).toEqual([status.OK, status.OK, status.FAILED_PRECONDITION, status.FAILED_PRECONDITION]);
    expect(held).toEqual([true, true, false, false]);
    expect(row).toMatchObject({ available: 0, reserved: 5 }); // 3 by the other writer, 2 by this batch
  });

  it('when another writer changes the price between the batch read and its write, then no entry is reserved at the old price', async () => {
    // Stock is plenty, so only the version tells that the product changed.
    const requests = [1, 2].map((i) => request(`reprice-${i}`, [['race-p', 1]], { expectedPrices: [{ productId: 'race-p', unitPriceMinor: 1000 }] }));
    const repriced = "UPDATE products SET price_minor = 1200, version = version + 1 WHERE id = 'race-p'";
    const { response, row, held } = await raceFirstBatch(repriced, 100, requests);
    expect(codes(response)).toEqual([status.FAILED_PRECONDITION, status.FAILED_PRECONDITION]);
    expect(errorDetails.readPriceMismatches(entryError(response.results[0]!.status!).metadata)).toEqual([
      { productId: 'race-p', expectedUnitPriceMinor: 1000, currentUnitPriceMinor: 1200 },
    ]);
    expect(held).toEqual([false, false]);
    expect(row).toMatchObject({ available: 100, reserved: 0, priceMinor: 1200 });
  });

  it('when a third-party client calls ReserveBatch with @grpc/proto-loader from the .proto files, then it gets one result per entry', async () => {
    await product('dyn-p', 1);
    const definition = protoLoader.loadSync(path.join('orderflow', 'inventory', 'v1', 'inventory.proto'), {
      includeDirs: [PROTO_ROOT],
      keepCase: true,
      longs: Number,
      enums: String,
      defaults: true,
    });
    const loaded = loadPackageDefinition(definition) as unknown as {
      orderflow: { inventory: { v1: { InventoryService: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => DynamicClient } } };
    };
    const dynamic = new loaded.orderflow.inventory.v1.InventoryService(inv.address, credentials.createInsecure());
    try {
      const expires_at = { seconds: Math.floor(Date.now() / 1000) + 600, nanos: 0 };
      const answer = await new Promise<DynamicBatchResponse>((resolve, reject) =>
        dynamic.ReserveBatch(
          {
            entries: [
              { request: { order_id: 'dyn-1', items: [{ product_id: 'dyn-p', quantity: 1 }], expires_at }, context: { request_id: 'dyn-req-1' } },
              { request: { order_id: 'dyn-2', items: [{ product_id: 'dyn-p', quantity: 1 }], expires_at } },
            ],
          },
          new Metadata(),
          { deadline: new Date(Date.now() + 10_000) },
          (error, response) => (error ? reject(error) : resolve(response)),
        ),
      );
      expect(answer.results.map((r) => r.status.code)).toEqual([status.OK, status.FAILED_PRECONDITION]);
      expect(answer.results[0]!.response!.reservation).toMatchObject({ order_id: 'dyn-1', status: 'RESERVATION_STATUS_RESERVED' });
      expect(answer.results[1]!.response).toBeNull();
      const reason = answer.results[1]!.status.metadata.find((m) => m.key === 'orderflow-error-reason');
      expect(reason?.value.toString('utf8')).toBe('insufficient-stock');
    } finally {
      dynamic.close();
    }
  });
});

interface DynamicBatchResponse {
  results: {
    status: { code: number; message: string; metadata: { key: string; value: Buffer }[] };
    response: { reservation: Record<string, unknown> } | null;
  }[];
}

interface DynamicClient {
  ReserveBatch(
    request: unknown,
    metadata: Metadata,
    options: { deadline: Date },
    callback: (error: ServiceError | null, response: DynamicBatchResponse) => void,
  ): void;
  close(): void;
}
