/** An order this gateway changed, and the version that change produced. */
export interface RecentWrite {
  orderId: string;
  customerId: string;
  version: number;
}

export interface RecentWritesOptions {
  /** How long a write is remembered: longer than the read side ever lags. */
  ttlMs: number;
  /** Most orders remembered; the oldest writes are forgotten first. */
  maxOrders: number;
  /** Most writes per customer a listing checks (the newest). */
  perCustomer?: number;
  now?: () => number;
}

/**
 * Read-your-writes: the orders this gateway process placed or changed lately, with the version each
 * change produced, so a read can ask the projection for at least that version. Bounded in time and
 * size; ordered by the time of each order's last write (a Map keeps insertion order).
 */
export function createRecentWrites({ ttlMs, maxOrders, perCustomer = 20, now = Date.now }: RecentWritesOptions) {
  const byOrder = new Map<string, RecentWrite & { at: number }>();
  const byCustomer = new Map<string, Set<string>>();

  const forget = (orderId: string) => {
    const write = byOrder.get(orderId);
    if (!write) return;
    byOrder.delete(orderId);
    const orders = byCustomer.get(write.customerId);
    orders?.delete(orderId);
    if (orders?.size === 0) byCustomer.delete(write.customerId);
  };

  const prune = () => {
    const cutoff = now() - ttlMs;
    for (const [orderId, write] of byOrder) {
      if (write.at > cutoff && byOrder.size <= maxOrders) break;
      forget(orderId);
    }
  };

  return {
    record(write: RecentWrite): void {
      const known = byOrder.get(write.orderId);
      if (known && known.version >= write.version) return; // a replayed or late answer never lowers the bar
      forget(write.orderId);
      byOrder.set(write.orderId, { ...write, at: now() });
      const orders = byCustomer.get(write.customerId) ?? new Set<string>();
      byCustomer.set(write.customerId, orders.add(write.orderId));
      prune();
    },

    /** The version a read of this order must show at least; 0 when this gateway did not change it lately. */
    versionOf(orderId: string): number {
      prune();
      return byOrder.get(orderId)?.version ?? 0;
    },

    /** The customer's latest writes, newest first. */
    ofCustomer(customerId: string): RecentWrite[] {
      prune();
      const ids = [...(byCustomer.get(customerId) ?? [])].slice(-perCustomer).reverse();
      return ids.map((id) => byOrder.get(id)!).map(({ orderId, version }) => ({ orderId, customerId, version }));
    },

    get size(): number {
      return byOrder.size;
    },
  };
}

export type RecentWrites = ReturnType<typeof createRecentWrites>;

interface Listed {
  id: string;
  version: number;
}

/**
 * The writes a customer's first listing page does not show yet: listed at an older version, or absent
 * although they belong on it (the page is the last one, or the order is newer than its last entry;
 * ids are time-ordered, so an older one belongs to a later page).
 */
export function unseenWrites(page: Listed[], hasMore: boolean, writes: RecentWrite[]): RecentWrite[] {
  const last = page[page.length - 1];
  return writes.filter((write) => {
    const listed = page.find((order) => order.id === write.orderId);
    if (listed) return listed.version < write.version;
    return !hasMore || !last || BigInt(write.orderId) > BigInt(last.id);
  });
}

/**
 * The page with fresher copies of its orders (from the command side): a listed order is replaced in
 * place; a missing one is put where its id sorts (newest first), at most `room` of them, the newest.
 * A missing order is not in the read side yet, so no later page (ids below this page's last) shows it.
 */
export function withFresher<T extends Listed>(page: T[], fresher: T[], room: number): T[] {
  const result = page.map((order) => fresher.find((f) => f.id === order.id && f.version > order.version) ?? order);
  const missing = fresher.filter((order) => !result.some((o) => o.id === order.id)).sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
  for (const order of missing.slice(0, Math.max(0, room))) {
    const at = result.findIndex((o) => BigInt(o.id) < BigInt(order.id));
    result.splice(at === -1 ? result.length : at, 0, order);
  }
  return result;
}
