import { call, classify, Customer, Operation, OperationKind, Product, RestLoad } from '@orderflow/chaos';
import { BUCKET_COUNT, bucketForCustomer, bucketOfOrderId } from '@orderflow/sharding';
import { ms, percentile, perSecond } from './stats';

/**
 * REST load for a bucket move (issue 13, "online means measured"): the chaos run's clients (tools/chaos
 * RestLoad: one customer each, placing orders with an Idempotency-Key, paying and cancelling some, every
 * attempt in a ledger), with customers picked so that a share of them live in the moving buckets. The
 * ledger is read back as samples tagged with each customer's bucket, summed per time window and per
 * bucket class (moving / not moving): orders/s, p50, p99, 5xx; and the orders created, for the checks.
 */

/** Buckets `from..to`, both included (as `npm run shards -- move --buckets A-B` names them). */
export interface BucketSpan {
  from: number;
  to: number;
}

/** The first attempt of one operation, tagged with its customer's bucket. */
export interface LoadSample {
  kind: OperationKind;
  customer: string;
  bucket: number;
  moving: boolean;
  sentAt: number;
  latencyMs: number;
  status?: number;
  /** A transport failure ('timeout', 'ECONNREFUSED', ...). */
  error?: string;
  /** The order a 201 placement created. */
  orderId?: string;
}

/** A stretch of time, epoch ms, `from` included and `to` not. */
export interface LoadWindow {
  name: string;
  from: number;
  to: number;
}

export interface ClassFigures {
  /** First attempts sent in the window (placements, pays, cancels). */
  requests: number;
  /** Placements answered 201. */
  created: number;
  ordersPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  server5xx: number;
  transportErrors: number;
}

export interface WindowSummary {
  window: string;
  seconds: number;
  all: ClassFigures;
  moving: ClassFigures;
  notMoving: ClassFigures;
}

/** An order a 201 answered, once per order id however many attempts named it. */
export interface CreatedOrder {
  orderId: string;
  customer: string;
  bucket: number;
  /** The Idempotency-Key of its placement. */
  key: string;
}

export const inSpan = (span: BucketSpan) => (bucket: number) => bucket >= span.from && bucket <= span.to;

/**
 * `count` customer ids `<prefix>c<i>` whose bucket passes `wanted`, in order of i (deterministic). Each
 * bucket is as likely as any other, so a range of r buckets takes about 1024 / r tries per customer.
 */
export function customersWhere(prefix: string, count: number, wanted: (bucket: number) => boolean, bucketCount = BUCKET_COUNT): string[] {
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++) {
    if (i > 1_000 * bucketCount + count) throw new Error(`no ${count} customers found for the buckets wanted after ${i} tries`);
    const id = `${prefix}c${i}`;
    if (wanted(bucketForCustomer(id, bucketCount))) ids.push(id);
  }
  return ids;
}

/** The ledger's operations as samples, by their first attempt (retries are settling, not load). */
export function samplesOf(operations: readonly Operation[], moving: (bucket: number) => boolean): LoadSample[] {
  const buckets = new Map<string, number>();
  const bucketOf = (customer: string) => buckets.get(customer) ?? buckets.set(customer, bucketForCustomer(customer)).get(customer)!;
  return operations.flatMap((op) => {
    const first = op.attempts[0];
    if (!first || first.retry) return [];
    const bucket = bucketOf(op.customer);
    return [
      {
        kind: op.kind,
        customer: op.customer,
        bucket,
        moving: moving(bucket),
        sentAt: first.sentAt,
        latencyMs: first.endedAt - first.sentAt,
        status: first.status,
        error: first.error,
        orderId: op.kind === 'place' && first.status === 201 ? first.orderId : undefined,
      },
    ];
  });
}

/** The figures of some samples over `seconds`. Latency counts every sample with an answer or an error. */
export function classFigures(samples: readonly LoadSample[], seconds: number): ClassFigures {
  const latencies = samples.map((s) => s.latencyMs).sort((a, b) => a - b);
  const created = samples.filter((s) => s.kind === 'place' && s.status === 201).length;
  return {
    requests: samples.length,
    created,
    ordersPerSecond: seconds > 0 ? created / seconds : 0,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? 0,
    server5xx: samples.filter((s) => (s.status ?? 0) >= 500).length,
    transportErrors: samples.filter((s) => s.error !== undefined).length,
  };
}

/** Each window's figures, for all samples sent in it and for each bucket class. */
export function summarize(samples: readonly LoadSample[], windows: readonly LoadWindow[]): WindowSummary[] {
  return windows.map((window) => {
    const seconds = (window.to - window.from) / 1000;
    const inWindow = samples.filter((s) => s.sentAt >= window.from && s.sentAt < window.to);
    return {
      window: window.name,
      seconds,
      all: classFigures(inWindow, seconds),
      moving: classFigures(
        inWindow.filter((s) => s.moving),
        seconds,
      ),
      notMoving: classFigures(
        inWindow.filter((s) => !s.moving),
        seconds,
      ),
    };
  });
}

/** Windows of `stepMs` from `from` to `to` (the last one shorter when the span does not divide), named by their start in seconds. */
export function windowsEvery(from: number, to: number, stepMs: number): LoadWindow[] {
  if (!(stepMs > 0)) throw new Error(`a window must last more than 0 ms (got ${stepMs})`);
  const windows: LoadWindow[] = [];
  for (let start = from; start < to; start += stepMs)
    windows.push({ name: `+${((start - from) / 1000).toFixed(1)}s`, from: start, to: Math.min(to, start + stepMs) });
  return windows;
}

/** Every order some 201 named (first attempts and retries alike), once each, in the order first answered. */
export function createdOrders(operations: readonly Operation[]): CreatedOrder[] {
  const seen = new Map<string, CreatedOrder>();
  for (const op of operations) {
    if (op.kind !== 'place') continue;
    for (const attempt of op.attempts) {
      if (attempt.status !== 201 || !attempt.orderId || seen.has(attempt.orderId)) continue;
      seen.set(attempt.orderId, { orderId: attempt.orderId, customer: op.customer, bucket: bucketForCustomer(op.customer), key: op.key ?? '' });
    }
  }
  return [...seen.values()];
}

/** Where the created orders are, against a map (issue 13: no lost and no doubled order). */
export interface Placement {
  orders: number;
  /** On the shard the map gives the order's bucket (once: the id is that table's primary key). */
  onOwner: number;
  /** On no shard the map gives its bucket: lost. */
  missing: string[];
  /** Also on another shard: a move's source rows until its cleanup (or, after it, a stray copy). */
  elsewhere: string[];
}

/** `found[s]`: the ids of `created` that shard s holds. The bucket is read from the id itself. */
export function placement(created: readonly CreatedOrder[], shardOf: (bucket: number) => number, found: readonly ReadonlySet<string>[]): Placement {
  const result: Placement = { orders: created.length, onOwner: 0, missing: [], elsewhere: [] };
  for (const { orderId } of created) {
    const owner = shardOf(bucketOfOrderId(orderId));
    if (found[owner]?.has(orderId)) result.onOwner++;
    else result.missing.push(orderId);
    if (found.some((ids, shard) => shard !== owner && ids.has(orderId))) result.elsewhere.push(orderId);
  }
  return result;
}

/** One line per window and class: what the move command prints before, during and after. */
export function formatSummary(summaries: readonly WindowSummary[]): string[] {
  const row = (window: string, label: string, f: ClassFigures) =>
    [
      window.padEnd(10),
      label.padEnd(11),
      perSecond(f.ordersPerSecond).padStart(8),
      ms(f.p50Ms).padStart(10),
      ms(f.p99Ms).padStart(10),
      String(f.server5xx).padStart(5),
      String(f.transportErrors).padStart(7),
    ].join(' ');
  return [
    ['window'.padEnd(10), 'buckets'.padEnd(11), 'orders'.padStart(8), 'p50'.padStart(10), 'p99'.padStart(10), '5xx'.padStart(5), 'errors'.padStart(7)].join(
      ' ',
    ),
    ...summaries.flatMap((s) => [row(s.window, 'moving', s.moving), row('', 'not moving', s.notMoving)]),
  ];
}

export interface MoveLoadOptions {
  /** The gateway's base URL. */
  url: string;
  /** Mints a token (the gateway's dev secret); the catalog is written as an admin. */
  token(customerId: string, options?: { admin?: boolean; ttlSeconds?: number }): string;
  clients: number;
  /** The buckets that move: `movingShare` of the clients (default half, at least one) are customers in them. */
  moving: BucketSpan;
  movingShare?: number;
  /** Names customers, products and idempotency keys (default: the time, base 36). */
  runId?: string;
  /** As RestLoad's: of a client's steps when it has orders, the share that pays one and that cancels one. */
  payShare?: number;
  cancelShare?: number;
  timeoutMs?: number;
  random?: () => number;
}

/**
 * Started with `MoveLoad.start`: writes a catalog of its own (stock that does not run out), picks the
 * customers and starts the clients. `stop` waits for the requests in flight; `retryUnknown` settles the
 * placements that got no definite answer (same key and body) before `created` is read for the checks.
 */
export class MoveLoad {
  private readonly isMoving: (bucket: number) => boolean;

  private constructor(
    private readonly load: RestLoad,
    readonly customers: readonly Customer[],
    moving: BucketSpan,
    /** When the clients started (epoch ms): the first window's start. */
    readonly startedAt: number,
  ) {
    this.isMoving = inSpan(moving);
  }

  static async start(options: MoveLoadOptions): Promise<MoveLoad> {
    const runId = options.runId ?? Date.now().toString(36);
    const prefix = `move-${runId}-`;
    const moving = inSpan(options.moving);
    const movingClients = Math.max(1, Math.round(options.clients * (options.movingShare ?? 0.5)));
    if (movingClients > options.clients) throw new Error(`${options.clients} clients cannot hold ${movingClients} in the moving buckets`);
    const ids = [
      ...customersWhere(`${prefix}m`, movingClients, moving),
      ...customersWhere(`${prefix}s`, options.clients - movingClients, (bucket) => !moving(bucket)),
    ];
    const customers = ids.map((id) => ({ id, token: options.token(id, { ttlSeconds: 6 * 3600 }) }));
    const products = await seedCatalog(options.url, options.token(`${prefix}admin`, { admin: true, ttlSeconds: 3600 }), prefix);
    const load = new RestLoad({
      url: options.url,
      customers,
      products,
      keyPrefix: `move-${runId}`,
      payShare: options.payShare,
      cancelShare: options.cancelShare,
      timeoutMs: options.timeoutMs,
      random: options.random,
    });
    const startedAt = Date.now();
    load.start();
    return new MoveLoad(load, customers, options.moving, startedAt);
  }

  get operations(): readonly Operation[] {
    return this.load.operations;
  }

  /** Stops sending and waits for the requests in flight. */
  stop(): Promise<void> {
    return this.load.pause();
  }

  /** Resends every operation without a definite answer (same key and body) until it has one or the deadline passes. */
  retryUnknown(deadline: number): Promise<void> {
    return this.load.retryUnknown(this.load.operations, deadline);
  }

  samples(): LoadSample[] {
    return samplesOf(this.load.operations, this.isMoving);
  }

  summary(windows: readonly LoadWindow[]): WindowSummary[] {
    return summarize(this.samples(), windows);
  }

  created(): CreatedOrder[] {
    return createdOrders(this.load.operations);
  }
}

/** Two products with more stock than any run uses, written with PUT (idempotent: retried until definite). */
async function seedCatalog(url: string, admin: string, prefix: string): Promise<Product[]> {
  const catalog = [
    { id: `${prefix}a`, price: 2.5 },
    { id: `${prefix}b`, price: 4.75 },
  ];
  for (const product of catalog) {
    for (let tries = 0; ; tries++) {
      const answer = await call(url, {
        method: 'PUT',
        path: `/api/products/${product.id}`,
        token: admin,
        body: { name: `Move load ${product.id}`, price: product.price, stock: 1_000_000 },
        timeoutMs: 10_000,
      });
      if (answer.status === 200 || answer.status === 201) break;
      if (classify(answer) === 'definite' || tries >= 20) throw new Error(`PUT /api/products/${product.id}: ${answer.status ?? answer.error}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  return catalog;
}
