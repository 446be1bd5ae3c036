/**
 * The limits of a PlaceOrder request, defined once for every service that checks them: the gateway's
 * request schema (and so the OpenAPI) and order-command's validation. The configurable ones are read
 * by both from the same variables (MAX_ITEMS, MAX_QUANTITY), so one setting raises them everywhere.
 * Text lengths count characters (Unicode code points), as MySQL's VARCHAR does.
 */
export interface OrderLimits {
  maxItems: number;
  maxQuantity: number;
  maxUnitPriceMinor: number;
  maxAddressLength: number;
  maxPaymentMethodLength: number;
  maxIdempotencyKeyLength: number;
}

export const DEFAULT_ORDER_LIMITS: OrderLimits = {
  maxItems: 50,
  maxQuantity: 1_000,
  maxUnitPriceMinor: 100_000_000,
  maxAddressLength: 500,
  maxPaymentMethodLength: 64,
  maxIdempotencyKeyLength: 255,
};

/**
 * The largest value each configurable limit may take (MAX_ITEMS, MAX_QUANTITY, read by the gateway and
 * order-command alike): an order's total (items x quantity x unit price, in minor units) stays a safe
 * integer at the largest of all.
 */
export const ORDER_LIMIT_CEILINGS = { maxItems: 500, maxQuantity: 100_000 } as const;
