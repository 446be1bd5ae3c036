import { faultAllowance } from './settings';
import { definiteAnswer, Operation, WindowStats } from './ledger';
import { classify } from './outcome';

/**
 * The end-of-run checks, computed from what the clients were told (the ledger), what the databases hold
 * (a snapshot read once everything settled) and what the API answers. Pure: the data is passed in.
 */

export interface OrderRow {
  id: string;
  customer: string;
  /** PENDING and FAILED are internal (never shown); the rest are orders. */
  status: string;
  version: number;
  items: { productId: string; quantity: number }[];
  /** What the order still owes inventory (COMMIT, RELEASE) and whether that was done. */
  stockAction: string | null;
  stockSettled: boolean;
}

export interface ViewRow {
  id: string;
  customer: string;
  status: string;
  version: number;
}

export interface StockRow {
  id: string;
  available: number;
  reserved: number;
  sold: number;
  /** Inventory's own count of stock ever added. */
  received: number;
}

export interface KeyRow {
  customer: string;
  key: string;
  orderId: string;
  state: string;
}

export interface Snapshot {
  /** Every order row of the run's customers, internal states included. */
  orders: OrderRow[];
  /** The read side's order views of the run's customers. */
  views: ViewRow[];
  /** The idempotency keys of the run's customers. */
  keys: KeyRow[];
  products: StockRow[];
  /** Outbox rows of the run's orders, and how many of them are not published yet. */
  outboxRows: number;
  unsentOutbox: number;
}

export interface ApiReads {
  /** Per acknowledged order id: the owner's GET answered 200 with this id. */
  readable: Map<string, boolean>;
  /** Per customer: every order id in the owner's listing (all pages). */
  listed: Map<string, Set<string>>;
}

export interface CheckResult {
  name: string;
  pass: boolean;
  detail: string;
  /** A figure shown beside the checks that no invariant holds yet (it passes whatever it says). */
  informational?: boolean;
}

/** Statuses in which an order holds its stock: reserved for it (RESERVED) or sold to it (PAID, SHIPPED). */
export const HOLDING = new Set(['RESERVED', 'PAID', 'SHIPPED']);
const INTERNAL = new Set(['PENDING', 'FAILED']);
export const visible = (o: OrderRow) => !INTERNAL.has(o.status);

/** Each placement answered 201: its order id (the first 201's; the keys check looks at disagreeing ones). */
export function acknowledged(operations: readonly Operation[]): Map<string, Operation> {
  const acked = new Map<string, Operation>();
  for (const op of operations) {
    if (op.kind !== 'place') continue;
    const created = op.attempts.find((a) => a.status === 201 && a.orderId);
    if (created) acked.set(created.orderId!, op);
  }
  return acked;
}

const sample = (ids: Iterable<string>, n = 3) => {
  const list = [...ids];
  return list.length === 0 ? '' : ` (e.g. ${list.slice(0, n).join(', ')}${list.length > n ? ', ...' : ''})`;
};

export function checkUnknownsResolved(operations: readonly Operation[]): CheckResult {
  const ever = operations.filter((op) => op.attempts.some((a) => classify(a) === 'unknown'));
  const left = operations.filter((op) => !definiteAnswer(op));
  const byKind = (ops: Operation[]) => ['place', 'pay', 'cancel'].map((k) => `${ops.filter((o) => o.kind === k).length} ${k}`).join(', ');
  return {
    name: 'every request without a definite answer got one on retry (same key and body)',
    pass: left.length === 0,
    detail: `${ever.length} operations had an unknown answer (${byKind(ever)}); ${left.length} still unknown after the retries`,
  };
}

export function checkAcknowledgedNotLost(operations: readonly Operation[], api: ApiReads): CheckResult {
  const acked = acknowledged(operations);
  const unreadable = [...acked.keys()].filter((id) => api.readable.get(id) !== true);
  const unlisted = [...acked.entries()].filter(([id, op]) => !api.listed.get(op.customer)?.has(id)).map(([id]) => id);
  return {
    name: "no acknowledged order lost: each 201 is readable by its owner and in its owner's listing",
    pass: unreadable.length === 0 && unlisted.length === 0 && acked.size > 0,
    detail:
      `${acked.size} orders answered 201; not readable by the owner: ${unreadable.length}${sample(unreadable)}; ` +
      `missing from the owner's listing: ${unlisted.length}${sample(unlisted)}`,
  };
}

export function checkKeysAndOrders(operations: readonly Operation[], snapshot: Snapshot): CheckResult {
  const places = operations.filter((op) => op.kind === 'place');
  // Stripe: every definite answer to one key is the first one (same status, same order).
  const disagreeing = places.filter((op) => {
    const answers = op.attempts.filter((a) => classify(a) === 'definite');
    return answers.some((a) => a.status !== answers[0]!.status || a.orderId !== answers[0]!.orderId);
  });
  const keysPerOrder = new Map<string, number>();
  for (const row of snapshot.keys) keysPerOrder.set(row.orderId, (keysPerOrder.get(row.orderId) ?? 0) + 1);
  const sharedOrders = [...keysPerOrder.entries()].filter(([, n]) => n > 1).map(([id]) => id);
  const ordersPerKey = new Map<string, Set<string>>();
  for (const op of places) {
    const ids = new Set(op.attempts.filter((a) => a.status === 201 && a.orderId).map((a) => a.orderId!));
    ordersPerKey.set(`${op.customer}/${op.key}`, ids);
  }
  const twoOrderKeys = [...ordersPerKey.entries()].filter(([, ids]) => ids.size > 1).map(([k]) => k);
  const acked = new Set(acknowledged(operations).keys());
  const stored = new Set(snapshot.orders.filter(visible).map((o) => o.id));
  const storedNotAcked = [...stored].filter((id) => !acked.has(id));
  const ackedNotStored = [...acked].filter((id) => !stored.has(id));
  const answeredAgain = places.filter((op) => op.attempts.filter((a) => classify(a) === 'definite').length > 1).length;
  const pass = disagreeing.length === 0 && sharedOrders.length === 0 && twoOrderKeys.length === 0 && storedNotAcked.length === 0 && ackedNotStored.length === 0;
  return {
    name: 'no key made two orders; the orders are exactly the acknowledged keys',
    pass,
    detail:
      `${places.length} keys, ${acked.size} acknowledged, ${stored.size} orders stored; keys with two orders: ${twoOrderKeys.length}${sample(twoOrderKeys)}; ` +
      `keys answered again (retried or replayed): ${answeredAgain}, ` +
      `of them differently: ${disagreeing.length}${sample(disagreeing.map((o) => `${o.customer}/${o.key}`))}; ` +
      `orders shared by two keys: ${sharedOrders.length}; ` +
      `stored, never acknowledged: ${storedNotAcked.length}${sample(storedNotAcked)}; ` +
      `acknowledged, not stored: ${ackedNotStored.length}${sample(ackedNotStored)}`,
  };
}

export interface ProductFigures {
  id: string;
  added: number;
  available: number;
  reserved: number;
  sold: number;
  received: number;
  /** Units in orders that hold stock; of them, in RESERVED orders and in PAID or SHIPPED ones. */
  held: number;
  heldReserved: number;
  heldSold: number;
}

export function productFigures(stockAdded: ReadonlyMap<string, number>, snapshot: Snapshot): ProductFigures[] {
  return [...stockAdded.entries()].map(([id, added]) => {
    const row = snapshot.products.find((p) => p.id === id) ?? { id, available: NaN, reserved: NaN, sold: NaN, received: NaN };
    let heldReserved = 0;
    let heldSold = 0;
    for (const order of snapshot.orders) {
      if (!HOLDING.has(order.status)) continue;
      const quantity = order.items.filter((i) => i.productId === id).reduce((sum, i) => sum + i.quantity, 0);
      if (order.status === 'RESERVED') heldReserved += quantity;
      else heldSold += quantity;
    }
    return {
      id,
      added,
      available: row.available,
      reserved: row.reserved,
      sold: row.sold,
      received: row.received,
      held: heldReserved + heldSold,
      heldReserved,
      heldSold,
    };
  });
}

/**
 * Per product, exactly: stock added - available = the units the holding orders hold; available >= 0;
 * available + reserved + sold = stock added. Also: reserved = units of RESERVED orders and sold = units
 * of PAID and SHIPPED ones (once every owed Commit/Release landed), and inventory's `received` = added.
 */
export function checkStock(stockAdded: ReadonlyMap<string, number>, snapshot: Snapshot): CheckResult[] {
  return productFigures(stockAdded, snapshot).map((p) => {
    const taken = p.added - p.available;
    const pass =
      taken === p.held &&
      p.available >= 0 &&
      p.available + p.reserved + p.sold === p.added &&
      p.reserved === p.heldReserved &&
      p.sold === p.heldSold &&
      p.received === p.added;
    return {
      name: `stock of ${p.id}: added - available = held by orders; available >= 0; available + reserved + sold = added`,
      pass,
      detail:
        `added ${p.added}, available ${p.available}: added - available = ${taken}, held by orders ${p.held}; ` +
        `reserved ${p.reserved} (RESERVED orders ${p.heldReserved}), sold ${p.sold} (PAID/SHIPPED orders ${p.heldSold}); ` +
        `available + reserved + sold = ${p.available + p.reserved + p.sold}; inventory's received ${p.received}`,
    };
  });
}

export function checkReadSide(snapshot: Snapshot): CheckResult {
  const views = new Map(snapshot.views.map((v) => [v.id, v]));
  const orders = snapshot.orders.filter(visible);
  const behind = orders.filter((o) => views.get(o.id)?.version !== o.version || views.get(o.id)?.status !== o.status);
  const ids = new Set(orders.map((o) => o.id));
  const extra = snapshot.views.filter((v) => !ids.has(v.id)).map((v) => v.id);
  const viewOf = (id: string) => {
    const view = views.get(id);
    return view ? `v${view.version} ${view.status}` : 'none';
  };
  return {
    name: 'every order is in the read side at its last version; every outbox row was published',
    pass: behind.length === 0 && extra.length === 0 && snapshot.unsentOutbox === 0,
    detail:
      `${orders.length} orders, ${snapshot.views.length} views; ` +
      `missing or behind: ${behind.length}${sample(behind.map((o) => `${o.id} v${o.version} ${o.status}, view ${viewOf(o.id)}`))}; ` +
      `views of no order: ${extra.length}; outbox rows ${snapshot.outboxRows}, unpublished ${snapshot.unsentOutbox}`,
  };
}

/** Placements after everything settled: each must be a 201, promptly. */
export function checkServedAtEnd(statuses: readonly (number | string)[], slowestMs: number, limitMs = 2_000): CheckResult {
  const created = statuses.filter((s) => s === 201).length;
  return {
    name: 'new orders are served normally at the end',
    pass: statuses.length > 0 && created === statuses.length && slowestMs <= limitMs,
    detail:
      `${created} of ${statuses.length} new placements answered 201 (others: ${JSON.stringify(statuses.filter((s) => s !== 201))}); ` +
      `slowest ${Math.round(slowestMs)} ms (limit ${limitMs} ms)`,
  };
}

/**
 * What each service fault cost REST clients, against what it may cost (`faultAllowance`): a line per
 * service fault, failing when a 5xx or a transport error was not allowed; informational when the fault
 * is held to nothing (one process per service).
 */
export function checkFaultCosts(stats: readonly WindowStats[], replicas: number): CheckResult[] {
  return stats.flatMap((s) => {
    if (s.fault.startsWith('kill:') && ['mariadb', 'redis', 'nats'].includes(s.fault.slice(5))) return [];
    const allowed = faultAllowance(s.fault, replicas);
    const detail = `${s.server5xx} 5xx, ${s.transportErrors} transport errors in ${s.requests} requests`;
    if (!allowed) return [{ name: `${s.fault} with one process per service (not held to zero 5xx)`, pass: true, detail, informational: true }];
    const why = s.fault.startsWith('kill:') ? 'requests in flight on the killed process are reset' : 'connections are refused while it restarts';
    const rule = allowed.noTransportErrors ? 'costs no 5xx and no transport error' : `costs no 5xx (${why})`;
    return [{ name: `${s.fault} ${rule}`, pass: s.server5xx === 0 && (!allowed.noTransportErrors || s.transportErrors === 0), detail }];
  });
}

/** Every fault's unit came back (supervision restarted it, /readyz answered 200, a 201 came after the fault). */
export function checkRecovered(stats: readonly WindowStats[]): CheckResult {
  const stuck = stats.filter((s) => s.recoveredAfterS === undefined).map((s) => s.fault);
  return {
    name: 'every fault recovered without manual steps',
    pass: stuck.length === 0,
    detail:
      stuck.length === 0
        ? `${stats.length} faults, each recovered (slowest ${Math.max(0, ...stats.map((s) => s.recoveredAfterS ?? 0)).toFixed(1)} s)`
        : `not recovered: ${stuck.join(', ')}`,
  };
}

/**
 * What is still moving: placements in flight (PENDING orders, IN_FLIGHT keys), Commit/Release calls
 * owed to inventory, unpublished events, and views behind their orders. Empty: settled, check now.
 */
export function unsettled(snapshot: Snapshot): string[] {
  const views = new Map(snapshot.views.map((v) => [v.id, v]));
  const reasons = [
    [snapshot.orders.filter((o) => o.status === 'PENDING').length, 'placements in flight (PENDING)'],
    [snapshot.keys.filter((k) => k.state !== 'DONE').length, 'keys in flight'],
    [snapshot.orders.filter((o) => o.stockAction && !o.stockSettled).length, 'Commit/Release owed to inventory'],
    [snapshot.unsentOutbox, 'unpublished outbox rows'],
    [snapshot.orders.filter(visible).filter((o) => views.get(o.id)?.version !== o.version).length, 'views behind'],
  ] as const;
  return reasons.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`);
}
