/** The JetStream stream that carries every order event. */
export const ORDERS_STREAM = 'ORDERS';

/** Subjects are "<prefix>.<kind>"; the version lives in the prefix so a v2 can run beside v1. */
export const ORDER_EVENT_SUBJECT_PREFIX = 'orders.v1';

export const ORDER_EVENT_KINDS = ['placed', 'paid', 'cancelled', 'shipped', 'expired'] as const;
export type OrderEventKind = (typeof ORDER_EVENT_KINDS)[number];

// One or more dot-separated tokens without wildcards or whitespace.
const SUBJECT_PREFIX = /^[^.*>\s]+(\.[^.*>\s]+)*$/;

function checkPrefix(prefix: string): string {
  if (!SUBJECT_PREFIX.test(prefix)) throw new Error(`invalid subject prefix "${prefix}": dot-separated tokens, no wildcards or spaces`);
  return prefix;
}

/** "orders.v1.placed" */
export function orderEventSubject(kind: OrderEventKind, prefix: string = ORDER_EVENT_SUBJECT_PREFIX): string {
  if (!(ORDER_EVENT_KINDS as readonly string[]).includes(kind)) throw new Error(`unknown order event kind "${kind}"`);
  return `${checkPrefix(prefix)}.${kind}`;
}

/** "orders.v1.>": every order event kind, for the stream's subjects and consumers' filters. */
export function orderEventSubjects(prefix: string = ORDER_EVENT_SUBJECT_PREFIX): string {
  return `${checkPrefix(prefix)}.>`;
}
