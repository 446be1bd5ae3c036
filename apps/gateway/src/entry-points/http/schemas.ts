import type { GatewayConfig } from '../../config';

const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$';
const ORDER_ID_PATTERN = '^[0-9]{1,20}$';
const money = { type: 'number', minimum: 0, maximum: 1_000_000, description: 'A decimal amount with at most 2 decimal places.' } as const;

export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details (application/problem+json).',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
    products: { type: 'array', items: {}, description: 'unknown-product: product ids; insufficient-stock: {product_id, requested, available}' },
    current_prices: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
  required: ['type', 'title', 'status', 'detail'],
} as const;

export const orderSchema = {
  $id: 'Order',
  type: 'object',
  properties: {
    id: { type: 'string', description: '64-bit time-ordered id, as a decimal string.' },
    customer_id: { type: 'string' },
    status: { type: 'string', enum: ['RESERVED', 'PAID', 'SHIPPED', 'CANCELLED', 'EXPIRED'] },
    items: {
      type: 'array',
      items: { type: 'object', properties: { product_id: { type: 'string' }, quantity: { type: 'integer' }, unit_price: { type: 'number' } } },
    },
    total: { type: 'number' },
    address: { type: 'string' },
    payment_method: { type: 'string' },
    version: { type: 'integer' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    expires_at: { type: 'string', format: 'date-time' },
  },
} as const;

export const productSchema = {
  $id: 'Product',
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, price: { type: 'number' }, available: { type: 'integer' } },
} as const;

const freeText = (max: number) =>
  `The client's own text, in any script: 1-${max} characters, spaces around it trimmed, stored and returned as sent. Lone UTF-16 surrogates (text that is not Unicode) are refused.`;

const problems = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, { $ref: 'Problem#', description: 'application/problem+json' }]));
const orderIdParams = { type: 'object', properties: { id: { type: 'string', pattern: ORDER_ID_PATTERN } }, required: ['id'] } as const;
const bearer = [{ bearerAuth: [] }];

/** Route schemas: request validation (every bad field listed) and the OpenAPI document. */
export function routeSchemas(limits: GatewayConfig['limits']) {
  return {
    placeOrder: {
      summary: 'Place an order',
      description:
        'Reserves stock for every item or none. The customer is the token\'s subject. With an Idempotency-Key, a retry with the same body returns the first answer; another body is 422.',
      tags: ['orders'],
      security: bearer,
      headers: {
        type: 'object',
        properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' } },
      },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['items', 'address', 'payment_method'],
        properties: {
          items: {
            type: 'array',
            minItems: 1,
            maxItems: limits.maxItems,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['product_id', 'quantity', 'unit_price'],
              properties: {
                product_id: { type: 'string', pattern: ID_PATTERN },
                quantity: { type: 'integer', minimum: 1, maximum: limits.maxQuantity },
                unit_price: money,
              },
            },
          },
          address: { type: 'string', minLength: 1, maxLength: limits.maxAddressLength, description: freeText(limits.maxAddressLength), example: '配送地址' },
          payment_method: {
            type: 'string',
            minLength: 1,
            maxLength: limits.maxPaymentMethodLength,
            description: `${freeText(limits.maxPaymentMethodLength)} Any text the shop uses, for example card, paypal, bank_transfer, cash_on_delivery, 信用卡; it is not checked against a list.`,
            example: '信用卡',
          },
        },
      },
      response: { 201: { $ref: 'Order#' }, ...problems(400, 401, 409, 422, 503) },
    },
    getOrder: {
      summary: 'Read an order (owner or admin)',
      tags: ['orders'],
      security: bearer,
      params: orderIdParams,
      response: { 200: { $ref: 'Order#' }, ...problems(400, 401, 404) },
    },
    listOrders: {
      summary: "List the caller's orders, newest first",
      tags: ['orders'],
      security: bearer,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { page_size: { type: 'integer', minimum: 1, maximum: limits.maxPageSize, default: 20 }, page_token: { type: 'string', maxLength: 1024 } },
      },
      response: {
        200: { type: 'object', properties: { orders: { type: 'array', items: { $ref: 'Order#' } }, next_page_token: { type: 'string' } } },
        ...problems(400, 401),
      },
    },
    cancelOrder: { summary: 'Cancel a RESERVED order (owner or admin); its stock is released', tags: ['orders'], security: bearer, params: orderIdParams, response: { 200: { $ref: 'Order#' }, ...problems(401, 404, 409) } },
    payOrder: { summary: 'Pay a RESERVED order before it expires (owner); the reservation becomes a sale', tags: ['orders'], security: bearer, params: orderIdParams, response: { 200: { $ref: 'Order#' }, ...problems(401, 404, 409) } },
    shipOrder: { summary: 'Ship a PAID order (admin)', tags: ['orders'], security: bearer, params: orderIdParams, response: { 200: { $ref: 'Order#' }, ...problems(401, 403, 404, 409) } },
    getOrderHistory: {
      summary: "An order's status changes, oldest first: when, who and why (owner or admin)",
      tags: ['orders'],
      security: bearer,
      params: orderIdParams,
      response: {
        200: {
          type: 'object',
          properties: {
            order_id: { type: 'string' },
            entries: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  version: { type: 'integer', description: "The order's version after the change (1 when placed)." },
                  status: { type: 'string', enum: ['RESERVED', 'PAID', 'SHIPPED', 'CANCELLED', 'EXPIRED'] },
                  occurred_at: { type: 'string', format: 'date-time' },
                  actor: {
                    type: 'object',
                    description: 'Who made the change; id is the customer or the admin (absent for the system, the expiry sweeper).',
                    properties: { kind: { type: 'string', enum: ['customer', 'admin', 'system'] }, id: { type: 'string' } },
                  },
                  reason: { type: 'string', description: 'For example placed, paid, cancelled by the customer, cancelled by an admin, shipped, payment window expired.' },
                },
              },
            },
          },
        },
        ...problems(400, 401, 404),
      },
    },
    putProduct: {
      summary: 'Create or update a product (admin)',
      description: 'stock sets the quantity available now.',
      tags: ['products'],
      security: bearer,
      params: { type: 'object', properties: { id: { type: 'string', pattern: ID_PATTERN } }, required: ['id'] },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'price', 'stock'],
        properties: { name: { type: 'string', minLength: 1, maxLength: 200, description: freeText(200) }, price: money, stock: { type: 'integer', minimum: 0, maximum: 1_000_000_000 } },
      },
      response: { 200: { $ref: 'Product#' }, 201: { $ref: 'Product#' }, ...problems(400, 401, 403) },
    },
    getProduct: {
      summary: 'Read a product (anyone)',
      tags: ['products'],
      params: { type: 'object', properties: { id: { type: 'string', pattern: ID_PATTERN } }, required: ['id'] },
      response: { 200: { $ref: 'Product#' }, ...problems(400, 404) },
    },
    adjustStock: {
      summary: "Change a product's available stock by a delta (admin)",
      description:
        'Adds delta (negative: removes) to the available stock, and records it with the reason (trimmed) and the admin. ' +
        'A negative delta larger than what is available (reserved stock does not count) is 409 stock-adjustment-refused and changes nothing.',
      tags: ['products'],
      security: bearer,
      params: { type: 'object', properties: { id: { type: 'string', pattern: ID_PATTERN } }, required: ['id'] },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['delta', 'reason'],
        properties: {
          delta: { type: 'integer', minimum: -1_000_000_000, maximum: 1_000_000_000, description: 'Not 0.' },
          reason: { type: 'string', minLength: 1, maxLength: 200, description: 'Why, in any script; 1-200 characters after trimming.' },
        },
      },
      response: { 200: { $ref: 'Product#' }, ...problems(400, 401, 403, 404, 409) },
    },
    listAllOrders: {
      summary: "List every customer's orders, newest first (admin)",
      description: 'Optionally one status and one customer. page_token is the next_page_token of the previous page, with the same filters.',
      tags: ['admin'],
      security: bearer,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          status: { type: 'string', enum: ['RESERVED', 'PAID', 'SHIPPED', 'CANCELLED', 'EXPIRED'] },
          customer_id: { type: 'string', pattern: ID_PATTERN },
          page_size: { type: 'integer', minimum: 1, maximum: limits.maxPageSize, default: 20 },
          page_token: { type: 'string', maxLength: 1024 },
        },
      },
      response: {
        200: { type: 'object', properties: { orders: { type: 'array', items: { $ref: 'Order#' } }, next_page_token: { type: 'string' } } },
        ...problems(400, 401, 403, 503),
      },
    },
  };
}
