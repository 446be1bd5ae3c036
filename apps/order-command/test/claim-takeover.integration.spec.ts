import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { ServiceError, status } from '@grpc/grpc-js';
import { createSqlPool, SqlPool } from '@orderflow/database';
import { shardMapFromConfig, ShardRouter } from '@orderflow/sharding';
import { errorDetails, orderV1 } from '@orderflow/proto';
import { typescriptNodeArgs } from '@orderflow/stack';
import type { OrderRepository } from '../src/domain/ports';
import { loadConfig } from '../src/config';
import { claimOwnerLockName } from '../src/infrastructure/mysql/claim-owners';
import { InventoryProcess, orderApi, orderCommandEnv, RunningOrderCommand, startInventoryProcess, startOrderCommand } from './support';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

/** A gate per idempotency key: a held step waits until the test opens it. */
class Gates {
  private readonly gates = new Map<string, { entered: Promise<void>; enter: () => void; opened: Promise<void>; open: () => void }>();

  private gate(key: string) {
    let gate = this.gates.get(key);
    if (!gate) {
      let enter = () => undefined as void;
      let open = () => undefined as void;
      const entered = new Promise<void>((r) => (enter = r));
      const opened = new Promise<void>((r) => (open = r));
      gate = { entered, enter, opened, open };
      this.gates.set(key, gate);
    }
    return gate;
  }

  hold(key: string): void {
    this.gate(key);
  }

  held(key: string): boolean {
    return this.gates.has(key);
  }

  /** Called by the held step. */
  async pass(key: string): Promise<void> {
    const gate = this.gate(key);
    gate.enter();
    await gate.opened;
  }

  entered(key: string): Promise<void> {
    return this.gate(key).entered;
  }

  open(key: string): void {
    this.gate(key).open();
  }

  openAll(): void {
    for (const gate of this.gates.values()) gate.open();
  }
}

/**
 * The gateway repeats a PlaceOrder cut off by a dead order-command replica on another replica, with the
 * same key, within the request's deadline (ADR 0006). Replica A serves the repeats; the owner of the
 * first call is a process killed with SIGKILL, or a replica B whose liveness the test controls.
 */
describe('a keyed placement whose owner is gone is taken over by the repeat (real MariaDB x2, NATS and the inventory process)', () => {
  let inventory: InventoryProcess;
  let env: Record<string, string>;
  let a: RunningOrderCommand;
  let dbs: SqlPool[];
  /** A's takeovers (its failPlacement without a stored answer, by order id) wait at these gates when held. */
  const takeoverGates = new Gates();
  /** Run as A's takeover of the order begins, without waiting. */
  const onTakeover = new Map<string, () => void>();

  beforeAll(async () => {
    inventory = await startInventoryProcess();
    // A shorter in-flight wait than the 4 s default keeps the "alive and slow" case quick.
    env = orderCommandEnv(inventory.address, { IDEMPOTENCY_WAIT_MS: '1500', SETTLE_AFTER_MS: '0' });
    a = await startOrderCommand(loadConfig(env), {
      decorateRepository: (repository: OrderRepository) =>
        Object.assign(Object.create(repository) as OrderRepository, {
          failPlacement: async (...args: Parameters<OrderRepository['failPlacement']>) => {
            const key = `order:${args[0]}`;
            if (!args[2].outcome) onTakeover.get(args[0])?.();
            if (!args[2].outcome && takeoverGates.held(key)) await takeoverGates.pass(key);
            return repository.failPlacement(...args);
          },
        }),
    });
    dbs = a.config.shards.map((shard) => createSqlPool(shard, { max: 1 }));
  });
  afterAll(async () => {
    takeoverGates.openAll();
    await Promise.all((dbs ?? []).map((db) => db.end()));
    await a?.stop();
    await inventory?.stop();
  });

  /** Replica B in this process: its completions (or stored refusals) wait at gates per key when held. */
  async function startReplicaB(gates: { complete?: Gates; refuse?: Gates }) {
    return startOrderCommand(loadConfig(env), {
      relay: false,
      decorateRepository: (repository: OrderRepository) =>
        Object.assign(Object.create(repository) as OrderRepository, {
          completePlacement: async (...args: Parameters<OrderRepository['completePlacement']>) => {
            if (args[1] && gates.complete?.held(args[1])) await gates.complete.pass(args[1]);
            return repository.completePlacement(...args);
          },
          failPlacement: async (...args: Parameters<OrderRepository['failPlacement']>) => {
            const key = args[2].idempotencyKey;
            if (args[2].outcome && key && gates.refuse?.held(key)) await gates.refuse.pass(key);
            return repository.failPlacement(...args);
          },
        }),
    });
  }

  /**
   * Runs `test` with a replica B whose completions (`complete`) or stored refusals (`refuse`) of the named keys
   * wait at their gates until the test opens them; after it, every gate is opened and B stopped, its data kept.
   */
  async function withReplicaB(
    held: { complete?: string[]; refuse?: string[] },
    test: (b: RunningOrderCommand, gates: { complete: Gates; refuse: Gates }) => Promise<void>,
  ): Promise<void> {
    const gates = { complete: new Gates(), refuse: new Gates() };
    for (const key of held.complete ?? []) gates.complete.hold(key);
    for (const key of held.refuse ?? []) gates.refuse.hold(key);
    const b = await startReplicaB(gates);
    try {
      await test(b, gates);
    } finally {
      gates.complete.openAll();
      gates.refuse.openAll();
      await b.stop({ keepData: true });
    }
  }

  const request = (customerId: string, idempotencyKey: string, productId: string, quantity: number): orderV1.PlaceOrderRequest => ({
    customerId,
    idempotencyKey,
    items: [{ productId, quantity, unitPriceMinor: 100 }],
    address: '1 Main St',
    paymentMethod: 'card',
  });
  const product = (id: string, available: number) => inventory.api.upsertProduct({ id, name: id, priceMinor: 100, available });
  const stockOf = async (id: string) => {
    const [p] = (await inventory.api.getProducts({ productIds: [id] })).products;
    return { available: p!.available, reserved: p!.reserved };
  };
  /** Every order row of the customer, on every shard. */
  const ordersOf = async (customerId: string) =>
    (
      await Promise.all(
        dbs.map((db) =>
          db.select<{ id: string; status: string; stock_action: string | null; stock_settled_at: Date | null }>(
            'SELECT CAST(id AS CHAR) AS id, status, stock_action, stock_settled_at FROM orders WHERE customer_id = ?',
            [customerId],
          ),
        ),
      )
    ).flat();
  const keyOf = (customerId: string, key: string) => a.app.repository.findIdempotency(customerId, key);
  const reason = (error: unknown) => errorDetails.errorReason((error as ServiceError).metadata);

  it("when the replica placing an order is killed (SIGKILL) after reserving, then the repeat on another replica takes the placement over at once: one order, the dead claim FAILED with its release, inventory holding the new order's units", async () => {
    await product('killed-p', 10);
    const child: ChildProcess = spawn(process.execPath, typescriptNodeArgs(path.join(__dirname, 'fixtures', 'stalling-order-command.ts')), {
      env: { ...process.env, ...env, ORDER_COMMAND_ROLES: 'api', ORDER_MIGRATE_ON_START: 'false' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
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
      const doomed = orderApi(`127.0.0.1:${port}`);
      const body = request('kim', 'key-kim', 'killed-p', 3);
      const cutOff = doomed.placeOrder(body).catch((e: ServiceError) => e);
      await until('the doomed replica reserved the stock', async () => (await stockOf('killed-p')).reserved === 3);
      const claim = await keyOf('kim', 'key-kim');
      expect(claim).toMatchObject({ state: 'IN_FLIGHT', owner: expect.stringMatching(/^[0-9a-f]{16}$/) });
      expect(claim!.owner).not.toBe(a.app.claimOwners.instanceId);

      child.kill('SIGKILL');
      expect(((await cutOff) as ServiceError).code).toBe(status.UNAVAILABLE); // what the gateway sees, and repeats
      doomed.client.close();

      const started = Date.now();
      const repeat = await a.api.placeOrder(body);
      const tookMs = Date.now() - started;
      expect(repeat.replayed).toBe(false);
      expect(repeat.order).toMatchObject({ customerId: 'kim', status: orderV1.OrderStatus.ORDER_STATUS_RESERVED });
      expect(repeat.order!.id).not.toBe(claim!.orderId);
      expect(tookMs).toBeLessThan(1_500); // no in-flight wait: IDEMPOTENCY_WAIT_MS would have been 1.5 s, then a 409

      const rows = await ordersOf('kim');
      expect(rows.filter((r) => r.status === 'RESERVED').map((r) => r.id)).toEqual([repeat.order!.id]);
      expect(rows.find((r) => r.id === claim!.orderId)).toMatchObject({ status: 'FAILED', stock_action: 'RELEASE' });
      expect(await keyOf('kim', 'key-kim')).toMatchObject({ state: 'DONE', orderId: repeat.order!.id });

      await a.app.sweeper.sweep(); // the settler: nothing left to release twice
      expect((await ordersOf('kim')).find((r) => r.id === claim!.orderId)?.stock_settled_at).not.toBeNull();
      expect(await stockOf('killed-p')).toEqual({ available: 7, reserved: 3 });
      expect(await a.api.placeOrder(body)).toEqual({ order: repeat.order, replayed: true });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it("when a claim's owner is alive and slow, then a duplicate on another replica gets idempotency-key-in-flight and the first order stands", async () => {
    await product('slow-p', 10);
    await withReplicaB({ complete: ['key-sam'] }, async (b, { complete }) => {
      const body = request('sam', 'key-sam', 'slow-p', 2);
      const first = b.api.placeOrder(body);
      await complete.entered('key-sam');
      expect((await keyOf('sam', 'key-sam'))?.owner).toBe(b.app.claimOwners.instanceId);

      const duplicate = await a.api.placeOrder(body).catch((e: ServiceError) => e);
      expect((duplicate as ServiceError).code).toBe(status.ABORTED);
      expect(reason(duplicate)).toBe('idempotency-key-in-flight');

      complete.open('key-sam');
      const placed = await first;
      expect(placed.order?.status).toBe(orderV1.OrderStatus.ORDER_STATUS_RESERVED);
      expect((await ordersOf('sam')).map((r) => [r.id, r.status])).toEqual([[placed.order!.id, 'RESERVED']]);
      expect(await a.api.placeOrder(body)).toEqual({ order: placed.order, replayed: true });
      expect(await stockOf('slow-p')).toEqual({ available: 8, reserved: 2 });
    });
  });

  it("when the owner is alive but its lock connection is gone (taken for dead) and the takeover fails its claim first, then the owner's completion is refused: one order, the owner's stock given back", async () => {
    await product('lost-lock-p', 10);
    await withReplicaB({ complete: ['key-lee'] }, async (b, { complete }) => {
      const body = request('lee', 'key-lee', 'lost-lock-p', 4);
      const first = b.api.placeOrder(body).catch((e: ServiceError) => e);
      await complete.entered('key-lee');
      const claim = await keyOf('lee', 'key-lee');
      await b.app.claimOwners.stop(); // B lives on, but its locks are free: to the others it is gone

      const repeat = await a.api.placeOrder(body);
      expect(repeat.order!.id).not.toBe(claim!.orderId);
      complete.open('key-lee'); // B's completion now finds its claim FAILED
      const owners = await first;
      expect((owners as ServiceError).code).toBe(status.ABORTED);

      const rows = await ordersOf('lee');
      expect(rows.filter((r) => r.status === 'RESERVED').map((r) => r.id)).toEqual([repeat.order!.id]);
      expect(rows.find((r) => r.id === claim!.orderId)?.status).toBe('FAILED');
      await a.app.sweeper.sweep();
      expect(await stockOf('lost-lock-p')).toEqual({ available: 6, reserved: 4 });
      expect(await a.api.placeOrder(body)).toEqual({ order: repeat.order, replayed: true });
    });
  });

  it("when an owner taken for dead completes just before the takeover's guarded fail, then nothing fails: the repeat replays the owner's order", async () => {
    await product('late-fail-p', 10);
    await withReplicaB({ complete: ['key-lou'] }, async (b, { complete }) => {
      const body = request('lou', 'key-lou', 'late-fail-p', 1);
      const first = b.api.placeOrder(body);
      await complete.entered('key-lou');
      const claim = await keyOf('lou', 'key-lou');
      await b.app.claimOwners.stop();
      takeoverGates.hold(`order:${claim!.orderId}`);

      const repeat = a.api.placeOrder(body);
      await takeoverGates.entered(`order:${claim!.orderId}`); // A decided to take over
      complete.open('key-lou');
      const placed = await first; // B completes first
      takeoverGates.open(`order:${claim!.orderId}`);

      expect(await repeat).toEqual({ order: placed.order, replayed: true });
      expect((await ordersOf('lou')).map((r) => [r.id, r.status, r.stock_action])).toEqual([[claim!.orderId, 'RESERVED', null]]);
      await a.app.sweeper.sweep();
      expect(await stockOf('late-fail-p')).toEqual({ available: 9, reserved: 1 });
    });
  });

  it("when takeovers race their owners' completions on many keys at once, then each key ends with exactly one order and stock held once per key", async () => {
    await product('race-p', 100);
    const keys = Array.from({ length: 12 }, (_, i) => i);
    await withReplicaB({ complete: keys.map((i) => `key-race-${i}`) }, async (b, { complete }) => {
      const firsts = keys.map((i) => b.api.placeOrder(request(`racer-${i}`, `key-race-${i}`, 'race-p', 2)).catch((e: ServiceError) => e));
      await Promise.all(keys.map((i) => complete.entered(`key-race-${i}`)));
      // Each owner's completion is let go as A starts taking its claim over, a little later key after key:
      // the owner's guarded UPDATE and the takeover's race on the same row, either may come first.
      for (const i of keys) onTakeover.set((await keyOf(`racer-${i}`, `key-race-${i}`))!.orderId, () => setTimeout(() => complete.open(`key-race-${i}`), i));
      await b.app.claimOwners.stop();
      const repeats = await Promise.all(keys.map((i) => a.api.placeOrder(request(`racer-${i}`, `key-race-${i}`, 'race-p', 2)).catch((e: ServiceError) => e)));
      const owners = await Promise.all(firsts);
      for (const i of keys) {
        const reserved = (await ordersOf(`racer-${i}`)).filter((r) => r.status === 'RESERVED');
        expect(reserved).toHaveLength(1);
        const repeat = repeats[i] as orderV1.PlaceOrderResponse;
        expect(repeat.order?.id).toBe(reserved[0]!.id);
        const owner = owners[i]!;
        if ('order' in owner) expect(owner.order?.id).toBe(reserved[0]!.id);
        else expect((owner as ServiceError).code).toBe(status.ABORTED);
      }
      await a.app.sweeper.sweep();
      expect(await stockOf('race-p')).toEqual({ available: 100 - 2 * keys.length, reserved: 2 * keys.length });
    });
  });

  it('when an owner taken for dead stores a late refusal after the takeover placed the order, then the key keeps the order', async () => {
    await product('late-refusal-p', 0);
    await withReplicaB({ refuse: ['key-liv'] }, async (b, { refuse }) => {
      const body = request('liv', 'key-liv', 'late-refusal-p', 2);
      const first = b.api.placeOrder(body).catch((e: ServiceError) => e);
      await refuse.entered('key-liv'); // B was refused for stock and is about to store that answer
      await b.app.claimOwners.stop();
      await product('late-refusal-p', 10); // restocked meanwhile

      const repeat = await a.api.placeOrder(body);
      expect(repeat.order?.status).toBe(orderV1.OrderStatus.ORDER_STATUS_RESERVED);
      refuse.open('key-liv');
      expect(reason(await first)).toBe('insufficient-stock'); // B's own caller, long gone, got B's answer

      expect(await keyOf('liv', 'key-liv')).toMatchObject({ state: 'DONE', orderId: repeat.order!.id });
      expect(await a.api.placeOrder(body)).toEqual({ order: repeat.order, replayed: true });
    });
  });

  it("when the server drops an instance's lock connection (KILL), then the instance takes its lock again on a new connection and still names itself on claims; once stopped, it is gone", async () => {
    const b = await startReplicaB({});
    try {
      const shard = new ShardRouter(shardMapFromConfig(undefined, env.ORDER_SHARDS!.split(',').length)).shardForCustomer('kai');
      const lock = claimOwnerLockName(shard, b.app.claimOwners.instanceId);
      const db = dbs[shard]!;
      const holder = async () => (await db.select<{ holder: string | null }>('SELECT IS_USED_LOCK(?) AS holder', [lock]))[0]!.holder;
      const first = await holder();
      expect(first).not.toBeNull();
      expect(b.app.claimOwners.self('kai')).toBe(b.app.claimOwners.instanceId);

      await db.run([{ sql: `KILL CONNECTION ${Number(first)}` }]);
      await until('the lock is held on another connection', async () => {
        const now = await holder();
        return now !== null && now !== first;
      });
      expect(b.app.claimOwners.self('kai')).toBe(b.app.claimOwners.instanceId);
      expect(await a.app.claimOwners.isGone('kai', b.app.claimOwners.instanceId)).toBe(false);
    } finally {
      await b.stop({ keepData: true });
    }
    expect(await a.app.claimOwners.isGone('kai', b.app.claimOwners.instanceId)).toBe(true); // stopped: gone
  });
});
