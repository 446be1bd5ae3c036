import { randomUUID } from 'node:crypto';
import { createSqlPool, dropDatabase, ensureDatabase, migrate, MysqlTarget, rowsOf, SqlPool } from '@orderflow/database';
import { connectNats, ensureStream, EventPublisher, JetStreamPublisher, orderEventSubject, PublishAck } from '@orderflow/messaging';
import { orderV1 } from '@orderflow/proto';
import { createLogger } from '@orderflow/service-kit';
import { LiveShardMap } from '@orderflow/shard-control';
import { evenShardMap, ShardRouter } from '@orderflow/sharding';
import { TcpProxy, testStack } from '@orderflow/stack';
import { OutboxRelay, OutboxRelayOptions } from '../src/entry-points/outbox.relay';
import { ORDER_SHARD_MIGRATIONS } from '../src/infrastructure/mysql/migrations';
import { MysqlOutboxStore, RELAY_FETCH_SQL } from '../src/infrastructure/mysql/outbox.store';
import { JetStreamEventPublisher } from '../src/infrastructure/nats/event.publisher';

type NatsConnection = Awaited<ReturnType<typeof connectNats>>;
type JetStreamManager = Awaited<ReturnType<NatsConnection['jetstreamManager']>>;

// Unique per run, so parallel or leftover runs never share a stream or a database.
const RUN = process.pid;
const STREAM = `ORDERS_TEST_${RUN}`;
const PREFIX = `test${RUN}.orders.v1`;
const logger = createLogger('outbox-relay-test', 'silent');

let targets: MysqlTarget[] = [];
/** One pool per shard: the relay's outbox store, and the test's inserts and checks. */
let pools: SqlPool[] = [];
/** Gives the shards their buckets (an even map: 0-511 on shard 0, 512-1023 on shard 1), as order-command does at start. */
let shardMap: LiveShardMap;
let nc: NatsConnection;
let jsm: JetStreamManager;

/** Counts what the broker said about each publish; the relay's view of JetStream's de-duplication. */
class CountingPublisher implements EventPublisher {
  stored = 0;
  duplicates = 0;
  failures = 0;

  constructor(private readonly inner: EventPublisher) {}

  async publish(subject: string, payload: Uint8Array, messageId: string): Promise<PublishAck> {
    try {
      const ack = await this.inner.publish(subject, payload, messageId);
      if (ack.duplicate) this.duplicates++;
      else this.stored++;
      return ack;
    } catch (error) {
      this.failures++;
      throw error;
    }
  }
}

// Everything a test starts, so afterEach can stop it even when an assertion failed half-way.
const cleanups: (() => Promise<unknown>)[] = [];

async function openConnection(servers = testStack.info().nats.servers): Promise<NatsConnection> {
  const connection = await connectNats({ servers, name: `outbox-relay-test-${RUN}`, reconnectTimeWaitMs: 100 });
  cleanups.push(() => connection.close());
  return connection;
}

/** A relay as order-command wires it (the MySQL outbox store, the JetStream event publisher) over `publisher`. */
function createRelay({ publisher, ...options }: Partial<Omit<OutboxRelayOptions, 'publisher'>> & { publisher: EventPublisher }): OutboxRelay {
  const relay = new OutboxRelay({
    store: new MysqlOutboxStore(pools),
    publisher: new JetStreamEventPublisher(() => publisher),
    logger,
    pollIntervalMs: 50,
    maxBackoffMs: 500,
    ...options,
  });
  cleanups.push(() => relay.stop());
  return relay;
}

/**
 * Inserts OrderPlaced outbox rows on a shard, as order-command's transactions would; returns their event ids.
 * Their orders are in `bucket` (by default the first the shard holds; another one makes a move's copies).
 */
async function insertEvents(shard: number, count: number, bucket = shard * 512): Promise<string[]> {
  const eventIds = Array.from({ length: count }, () => randomUUID());
  const values: unknown[] = [];
  eventIds.forEach((eventId, i) => {
    const orderId = String(bucket * 4096 + i + 1); // the bucket is bits 12-21 of an order id
    const payload = orderV1.OrderEvent.encode(
      orderV1.OrderEvent.fromPartial({ eventId, orderId, customerId: `customer-${shard}`, version: 1, occurredAt: new Date(), placed: {} }),
    ).finish();
    values.push(eventId, orderId, orderEventSubject('placed', PREFIX), Buffer.from(payload));
  });
  await pools[shard]!.run([
    { sql: `INSERT INTO outbox (event_id, order_id, subject, payload, created_at) VALUES ${eventIds.map(() => '(?, ?, ?, ?, NOW(3))').join(', ')}`, values },
  ]);
  return eventIds;
}

interface OutboxState {
  event_id: string;
  sent_at: Date | null;
  publish_attempts: number;
}

async function outboxRows(): Promise<OutboxState[]> {
  const perShard = await Promise.all(pools.map((pool) => pool.select<OutboxState>(`SELECT event_id, sent_at, publish_attempts FROM outbox ORDER BY id`)));
  return perShard.flat();
}

/** Every message in the stream, read back by sequence: its Nats-Msg-Id and the event id inside. */
async function streamEvents(): Promise<{ msgIds: string[]; eventIds: string[] }> {
  const { state } = await jsm.streams.info(STREAM);
  const seqs = Array.from({ length: state.messages }, (_, i) => state.first_seq + i);
  const msgIds: string[] = [];
  const eventIds: string[] = [];
  for (let i = 0; i < seqs.length; i += 50) {
    const messages = await Promise.all(seqs.slice(i, i + 50).map((seq) => jsm.streams.getMessage(STREAM, { seq })));
    for (const message of messages) {
      msgIds.push(message.header.get('Nats-Msg-Id'));
      eventIds.push(orderV1.OrderEvent.decode(message.data).eventId);
    }
  }
  return { msgIds, eventIds };
}

async function expectStreamHoldsEachOnce(expected: string[]): Promise<void> {
  const { msgIds, eventIds } = await streamEvents();
  expect(msgIds.length).toBe(expected.length);
  expect([...msgIds].sort()).toEqual([...expected].sort());
  expect(eventIds).toEqual(msgIds);
}

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('outbox relay (two real MariaDB shards and NATS JetStream)', () => {
  beforeAll(async () => {
    const stack = testStack.info();
    targets = [0, 1].map((i) => ({ ...stack.mysql[i]!, database: `orders_relay_test_${RUN}_${i}` }));
    for (const target of targets) await ensureDatabase(target);
    for (const target of targets) await migrate(target, ORDER_SHARD_MIGRATIONS);
    pools = targets.map((target) => createSqlPool(target, { max: 8 }));
    shardMap = new LiveShardMap(pools, new ShardRouter(evenShardMap(2)), { instance: `outbox-relay-test-${RUN}`, pollMs: 60_000 });
    await shardMap.start();
    nc = await connectNats({ servers: stack.nats.servers, name: `outbox-relay-test-${RUN}-checks` });
    jsm = await nc.jetstreamManager();
    await ensureStream(nc, { name: STREAM, subjects: [`${PREFIX}.>`], duplicateWindowMs: 10 * 60_000 });
  });

  beforeEach(async () => {
    await jsm.streams.purge(STREAM);
    for (const pool of pools) await pool.run([{ sql: 'DELETE FROM outbox' }]);
  });

  afterEach(async () => {
    // Relays before connections: a relay still publishing needs its connection.
    while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
  });

  afterAll(async () => {
    await jsm?.streams.delete(STREAM).catch(() => undefined);
    await nc?.close();
    await shardMap?.stop();
    for (const pool of pools) await pool.end();
    for (const target of targets) await dropDatabase(target);
  });

  it("when rows are in both shards' outboxes, then the relay publishes each exactly once and marks each sent", async () => {
    const inserted = [...(await insertEvents(0, 30)), ...(await insertEvents(1, 20))];
    const publisher = new CountingPublisher(new JetStreamPublisher(await openConnection()));
    const relay = createRelay({ publisher });
    await relay.start();
    await waitFor(async () => (await relay.backlog()) === 0, 'the backlog to drain');
    await relay.stop();

    await expectStreamHoldsEachOnce(inserted);
    expect({ stored: publisher.stored, duplicates: publisher.duplicates, failures: publisher.failures }).toEqual({ stored: 50, duplicates: 0, failures: 0 });
    const rows = await outboxRows();
    expect(rows).toHaveLength(50);
    for (const row of rows) expect({ sent: row.sent_at instanceof Date, attempts: row.publish_attempts }).toEqual({ sent: true, attempts: 1 });
  });

  it('when two relays run at once over the same shards, then every event is in the stream exactly once and every row is marked sent', async () => {
    const inserted = [...(await insertEvents(0, 250)), ...(await insertEvents(1, 250))];
    const publishers = [0, 1].map(async () => new CountingPublisher(new JetStreamPublisher(await openConnection())));
    const [first, second] = await Promise.all(publishers);
    const relays = [first!, second!].map((publisher) => createRelay({ publisher, batchSize: 20 }));
    await Promise.all(relays.map((relay) => relay.start()));
    await waitFor(async () => (await relays[0]!.backlog()) === 0, 'the backlog to drain');
    await Promise.all(relays.map((relay) => relay.stop()));

    await expectStreamHoldsEachOnce(inserted);
    // SKIP LOCKED: no row was even offered twice, so JetStream had nothing to de-duplicate.
    expect({ stored: first!.stored + second!.stored, duplicates: first!.duplicates + second!.duplicates }).toEqual({ stored: 500, duplicates: 0 });
    const rows = await outboxRows();
    expect(rows.filter((row) => row.sent_at === null)).toEqual([]);
    expect(new Set(rows.map((row) => row.publish_attempts))).toEqual(new Set([1]));
  });

  it('when a relay dies between publish and mark, then the rows stay unsent, and a new relay re-sends them and the stream holds each event once', async () => {
    const inserted = [...(await insertEvents(0, 10)), ...(await insertEvents(1, 10))];
    const connection = await openConnection();
    const crashed: string[] = [];
    const dying = createRelay({
      publisher: new JetStreamPublisher(connection),
      hooks: {
        afterPublish: async (eventIds) => {
          crashed.push(...eventIds);
          throw new Error('simulated crash after publish');
        },
      },
    });
    await expect(dying.relayOnce(0)).rejects.toThrow('simulated crash after publish');
    await expect(dying.relayOnce(1)).rejects.toThrow('simulated crash after publish');
    expect([...crashed].sort()).toEqual([...inserted].sort());
    expect((await outboxRows()).filter((row) => row.sent_at !== null || row.publish_attempts !== 0)).toEqual([]);
    expect((await jsm.streams.info(STREAM)).state.messages).toBe(20);

    const publisher = new CountingPublisher(new JetStreamPublisher(connection));
    const successor = createRelay({ publisher });
    await successor.start();
    await waitFor(async () => (await successor.backlog()) === 0, 'the successor to drain the backlog');
    await successor.stop();

    expect({ stored: publisher.stored, duplicates: publisher.duplicates }).toEqual({ stored: 0, duplicates: 20 });
    await expectStreamHoldsEachOnce(inserted);
    expect((await outboxRows()).every((row) => row.sent_at !== null)).toBe(true);
  });

  it('when NATS is unreachable, then nothing is marked sent, and once NATS is back every row is published exactly once', async () => {
    const [host, port] = testStack.info().nats.servers.split(':');
    const proxy = new TcpProxy({ host: host!, port: Number(port) });
    await proxy.start();
    cleanups.push(() => proxy.stop());
    const connection = await openConnection(`127.0.0.1:${proxy.port}`);
    const publisher = new CountingPublisher(new JetStreamPublisher(connection, { timeoutMs: 300 }));
    const relay = createRelay({ publisher });
    const inserted = [...(await insertEvents(0, 15)), ...(await insertEvents(1, 15))];

    await proxy.cut();
    await relay.start();
    await waitFor(async () => publisher.failures >= 60, 'a few failed rounds of publishes');
    expect(await relay.backlog()).toBe(30);
    expect((await outboxRows()).filter((row) => row.sent_at !== null)).toEqual([]);
    expect((await jsm.streams.info(STREAM)).state.messages).toBe(0);

    await proxy.restore();
    await waitFor(async () => (await relay.backlog()) === 0, 'the backlog to drain after NATS came back');
    await relay.stop();

    await expectStreamHoldsEachOnce(inserted);
    // Publishes that timed out while cut may still have been flushed on reconnect; if so, the re-sends were duplicates.
    expect(publisher.stored + publisher.duplicates).toBeGreaterThanOrEqual(30);
    expect(publisher.stored).toBeLessThanOrEqual(30);
  });

  it('when notify() is called after a commit, then the row is in the stream well before the next poll', async () => {
    const publisher = new JetStreamPublisher(await openConnection());
    const relay = createRelay({ publisher, pollIntervalMs: 10_000 });
    await relay.start();
    await sleep(300); // both loops have found nothing and are asleep for 10 s

    const [eventId] = await insertEvents(1, 1);
    const notifiedAt = Date.now();
    relay.notify();
    await waitFor(async () => (await jsm.streams.info(STREAM)).state.messages === 1, 'the notified row to be published', 2_000);
    expect(Date.now() - notifiedAt).toBeLessThan(1_000);
    await waitFor(async () => (await relay.backlog()) === 0, 'the row to be marked sent', 2_000);
    await expectStreamHoldsEachOnce([eventId!]);
  });

  it('when a shard holds unsent rows of a bucket it does not own (a move copying them), then the relay leaves them until the shard owns the bucket', async () => {
    const owned = await insertEvents(1, 5);
    const copies = await insertEvents(1, 3, 7); // bucket 7 is shard 0's: a move to shard 1 is copying it
    const publisher = new CountingPublisher(new JetStreamPublisher(await openConnection()));
    const relay = createRelay({ publisher });
    await relay.start();
    await waitFor(async () => (await relay.backlog()) === 0, 'the owned rows to drain');
    await sleep(300); // several polls: the copies stay where they are
    expect(await relay.relayOnce(1)).toBe(0);
    await expectStreamHoldsEachOnce(owned);
    const unsent = await pools[1]!.select<{ event_id: string }>('SELECT event_id FROM outbox WHERE sent_at IS NULL');
    expect(unsent.map((row) => row.event_id).sort()).toEqual([...copies].sort());

    // The switch: shard 1 owns bucket 7 from map version 2 on; its relay publishes the copies now.
    await pools[0]!.run([{ sql: "UPDATE shard_buckets SET state = 'MOVED', epoch = 2 WHERE bucket = 7" }]);
    await pools[1]!.run([{ sql: "INSERT INTO shard_buckets (bucket, epoch, state, updated_at) VALUES (7, 2, 'OWNED', NOW(3))" }]);
    relay.notify();
    await waitFor(
      async () => (await pools[1]!.select<{ n: string }>('SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL'))[0]!.n === '0',
      'the copies to go out',
    );
    await relay.stop();
    await expectStreamHoldsEachOnce([...owned, ...copies]);
    await pools[0]!.run([{ sql: "UPDATE shard_buckets SET state = 'OWNED', epoch = 1 WHERE bucket = 7" }]);
    await pools[1]!.run([{ sql: 'DELETE FROM shard_buckets WHERE bucket = 7' }]);
  });

  it('when the relay fetches a batch, then MariaDB reads the unsent rows by the outbox index in id order, and the held-bucket check locks no shard_buckets row', async () => {
    // As in production: many rows sent, a few not.
    await insertEvents(0, 1_000);
    await pools[0]!.run([
      { sql: 'UPDATE outbox SET sent_at = NOW(3) WHERE id NOT IN (SELECT id FROM (SELECT id FROM outbox ORDER BY id DESC LIMIT 20) AS recent)' },
    ]);
    await pools[0]!.run([{ sql: 'ANALYZE TABLE outbox' }]);
    const plan = await pools[0]!.select<{ table: string; type: string; key: string | null; Extra: string }>(`EXPLAIN ${RELAY_FETCH_SQL}`, [100]);
    expect(plan[0]).toMatchObject({ table: 'outbox', key: 'outbox_unsent' });
    expect(plan[0]!.Extra).not.toMatch(/filesort|temporary/i);
    expect(plan.find((row) => row.table === 'shard_buckets')).toMatchObject({ key: 'PRIMARY' });

    // A relay's batch held open: a move fencing the bucket (an exclusive lock on its row) does not wait for it.
    await pools[0]!.transaction(async (tx) => {
      expect(rowsOf(await tx.run([{ sql: RELAY_FETCH_SQL, values: [100] }]).then(([rows]) => rows))).toHaveLength(20);
      await pools[0]!.run([{ sql: 'SET STATEMENT innodb_lock_wait_timeout = 1 FOR UPDATE shard_buckets SET updated_at = NOW(3) WHERE bucket = 0' }]);
    });
  });
});
