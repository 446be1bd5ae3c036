import { call, RestAnswer } from './client';
import { definiteAnswer, Operation } from './ledger';
import { classify } from './outcome';

export interface Customer {
  id: string;
  token: string;
}

export interface Product {
  id: string;
  /** Decimal, as the API takes it. */
  price: number;
}

export interface LoadOptions {
  /** The gateway's base URL. */
  url: string;
  customers: Customer[];
  products: Product[];
  /** Prefix of every idempotency key (the run's id). */
  keyPrefix: string;
  /** A request with no answer within this is an unknown (timeout). */
  timeoutMs?: number;
  /** Of the steps of a client that has orders to act on: the share that pays one, and that cancels one. */
  payShare?: number;
  cancelShare?: number;
  /** Pause after an unknown answer, so a refused connection does not become a tight loop. */
  pauseAfterUnknownMs?: number;
  random?: () => number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * N REST clients, one customer each, each sending one request at a time: place an order, pay or cancel
 * one of its reserved orders; every POST with an Idempotency-Key. Every attempt goes into the ledger
 * (`operations`). An operation without a definite answer is left for `retryUnknown`, which resends it
 * with the same key and body (or the same transition) until the answer is definite.
 */
export class RestLoad {
  readonly operations: Operation[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly reserved = new Map<string, string[]>();
  private sequence = 0;
  private readonly random: () => number;

  constructor(private readonly options: LoadOptions) {
    this.random = options.random ?? Math.random;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = this.options.customers.map((customer) => this.client(customer));
  }

  /** Stops sending new requests and waits for those in flight. */
  async pause(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  /**
   * Resends each operation without a definite answer (same key and body; pay and cancel are idempotent
   * transitions) until it has one or `deadline` passes, one operation at a time per customer.
   */
  async retryUnknown(operations: readonly Operation[], deadline: number): Promise<void> {
    const pending = operations.filter((op) => !definiteAnswer(op));
    const byCustomer = new Map<string, Operation[]>();
    for (const op of pending) byCustomer.set(op.customer, [...(byCustomer.get(op.customer) ?? []), op]);
    await Promise.all(
      [...byCustomer.entries()].map(async ([customerId, ops]) => {
        const customer = this.options.customers.find((c) => c.id === customerId)!;
        for (const op of ops) {
          for (let delay = 250; !definiteAnswer(op) && Date.now() < deadline; delay = Math.min(2_000, delay * 2)) {
            const answer = await this.send(customer, op, true);
            if (classify(answer) === 'unknown') await sleep(delay);
          }
        }
      }),
    );
  }

  /**
   * Sends each placement once more, with its key and body, `concurrency` at a time: Stripe's semantics
   * say the answer is the first one (the same order, or the same refusal), however late.
   */
  async replay(operations: readonly Operation[], concurrency = 8): Promise<void> {
    const places = operations.filter((op) => op.kind === 'place');
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, places.length) }, async () => {
        while (next < places.length) {
          const op = places[next++]!;
          await this.send(
            this.options.customers.find((c) => c.id === op.customer)!,
            op,
            true,
          );
        }
      }),
    );
  }

  private async client(customer: Customer): Promise<void> {
    const { payShare = 0.3, cancelShare = 0.15, pauseAfterUnknownMs = 100 } = this.options;
    while (this.running) {
      const mine = this.reserved.get(customer.id) ?? [];
      const r = this.random();
      let op: Operation;
      if (mine.length > 0 && r < payShare + cancelShare) {
        const orderId = mine.splice(Math.floor(this.random() * mine.length), 1)[0]!;
        op = { kind: r < payShare ? 'pay' : 'cancel', customer: customer.id, key: `${this.options.keyPrefix}-${++this.sequence}`, orderId, attempts: [] };
      } else {
        op = { kind: 'place', customer: customer.id, key: `${this.options.keyPrefix}-${++this.sequence}`, body: this.orderBody(), attempts: [] };
      }
      this.operations.push(op);
      const answer = await this.send(customer, op, false);
      if (classify(answer) === 'unknown') await sleep(pauseAfterUnknownMs);
    }
  }

  private async send(customer: Customer, op: Operation, retry: boolean): Promise<RestAnswer> {
    const timeoutMs = this.options.timeoutMs ?? 8_000;
    const answer =
      op.kind === 'place'
        ? await call(this.options.url, { method: 'POST', path: '/api/orders', token: customer.token, body: op.body, idempotencyKey: op.key, timeoutMs }, retry)
        : // Every POST carries a key (the rule); pay and cancel are idempotent transitions whatever the gateway makes of it.
          await call(
            this.options.url,
            { method: 'POST', path: `/api/orders/${op.orderId}/${op.kind}`, token: customer.token, idempotencyKey: op.key, timeoutMs },
            retry,
          );
    // The ledger keeps the answer's figures, not its body.
    op.attempts.push({
      sentAt: answer.sentAt,
      endedAt: answer.endedAt,
      retry,
      status: answer.status,
      problemType: answer.problemType,
      orderId: answer.orderId,
      error: answer.error,
    });
    if (op.kind === 'place' && answer.status === 201 && answer.orderId && op.attempts.filter((a) => a.status === 201).length === 1) {
      this.reserved.set(customer.id, [...(this.reserved.get(customer.id) ?? []), answer.orderId]);
    }
    return answer;
  }

  /** One or two products, one to three units each, at the catalog's prices. */
  private orderBody(): unknown {
    const { products } = this.options;
    const first = products[Math.floor(this.random() * products.length)]!;
    const lines = [first];
    if (products.length > 1 && this.random() < 0.2) lines.push(products.filter((p) => p !== first)[Math.floor(this.random() * (products.length - 1))]!);
    return {
      items: lines.map((p) => ({ product_id: p.id, quantity: 1 + Math.floor(this.random() * 3), unit_price: p.price })),
      address: 'Chaos Street 1',
      payment_method: 'card',
    };
  }
}
