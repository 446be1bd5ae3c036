import type { GatewayConfig } from '../../config';
import { problemResponse, RESPONSE_HEADERS, success } from './route-contract';

const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$';
const ORDER_ID_PATTERN = '^[0-9]{1,20}$';
const money = { type: 'number', minimum: 0, maximum: 1_000_000, description: 'A decimal amount with at most 2 decimal places.' } as const;

export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details (application/problem+json). `type` is a relative URI: GET it for a description.',
  properties: {
    type: { type: 'string', pattern: '^/problems/[a-z-]+$', example: '/problems/insufficient-stock' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    instance: { type: 'string', description: 'The request path.' },
    errors: {
      type: 'array',
      description: 'invalid-request: each bad field.',
      items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } }, required: ['field', 'message'] },
    },
    products: {
      type: 'array',
      description: 'unknown-product: product ids; insufficient-stock: each short product with what is available.',
      items: {
        anyOf: [
          { type: 'string' },
          {
            type: 'object',
            properties: { product_id: { type: 'string' }, requested: { type: 'integer' }, available: { type: 'integer' } },
            required: ['product_id', 'requested', 'available'],
          },
        ],
      },
    },
    current_prices: {
      type: 'array',
      description: 'price-changed: the catalog price of each item whose unit_price differed.',
      items: {
        type: 'object',
        properties: { product_id: { type: 'string' }, unit_price: { type: 'number' }, requested_unit_price: { type: 'number' } },
        required: ['product_id', 'unit_price', 'requested_unit_price'],
      },
    },
    checks: { type: 'object', description: "GET /readyz: each downstream service's state.", additionalProperties: { type: 'string' } },
  },
  required: ['type', 'title', 'status', 'detail'],
} as const;

const ORDER_FIELDS = ['id', 'customer_id', 'status', 'items', 'total', 'address', 'payment_method', 'version', 'created_at', 'updated_at', 'expires_at'];

export const orderSchema = {
  $id: 'Order',
  type: 'object',
  properties: {
    id: { type: 'string', pattern: ORDER_ID_PATTERN, description: '64-bit time-ordered id, as a decimal string.' },
    customer_id: { type: 'string' },
    status: { type: 'string', enum: ['RESERVED', 'PAID', 'SHIPPED', 'CANCELLED', 'EXPIRED'] },
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: { product_id: { type: 'string' }, quantity: { type: 'integer' }, unit_price: { type: 'number' } },
        required: ['product_id', 'quantity', 'unit_price'],
      },
    },
    total: { type: 'number' },
    address: { type: 'string' },
    payment_method: { type: 'string' },
    version: { type: 'integer' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    expires_at: { type: 'string', format: 'date-time', description: 'When an unpaid order expires and its stock is released.' },
  },
  required: ORDER_FIELDS,
} as const;

export const productSchema = {
  $id: 'Product',
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    price: { type: 'number' },
    available: { type: 'integer', description: 'Stock that can be ordered now.' },
  },
  required: ['id', 'name', 'price', 'available'],
} as const;

const freeText = (max: number) =>
  `The client's own text, in any script: 1-${max} characters, spaces around it trimmed, stored and returned as sent. ` +
  'Lone UTF-16 surrogates (text that is not Unicode) are refused.';

export const problemTypeSchema = {
  $id: 'ProblemType',
  type: 'object',
  description: 'What a problem type means.',
  properties: { type: { type: 'string' }, status: { type: 'integer' }, title: { type: 'string' }, description: { type: 'string' } },
  required: ['type', 'status', 'title', 'description'],
} as const;

/** Every schema the routes refer to by $ref ('Order#'); they become components.schemas. */
export const sharedSchemas = [problemSchema, orderSchema, productSchema, problemTypeSchema];

/** The OpenAPI tags, declared with what they group; a route's tag must be one of them. */
export const TAGS = [
  { name: 'orders', description: 'Place, read, list, pay, cancel and ship orders.' },
  { name: 'products', description: 'The catalog: prices and available stock.' },
  { name: 'admin', description: 'Views across every customer, for admins.' },
  { name: 'problems', description: 'What each problem `type` of an error response means.' },
  { name: 'operations', description: 'Liveness, readiness and metrics.' },
];

const orderIdParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: ORDER_ID_PATTERN, description: 'An order id (a decimal 64-bit number).' } },
  required: ['id'],
} as const;
const productIdParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: ID_PATTERN, description: 'A product id: 1-64 of [A-Za-z0-9._:@-], starting with a letter or digit.' } },
  required: ['id'],
} as const;
const order = (description: string) => success(description, { $ref: 'Order#' });
const conflict = (text: string) => problemResponse(`409 ${text}`);

/**
 * Route schemas: request validation (every bad field listed) and the OpenAPI document. Each names its
 * success and its own problems; the standard ones (400, 401, 403, 404, 414, 415, 429, 500, 503, 504)
 * are added from how the route is declared (route-contract.ts).
 */
export function routeSchemas(limits: GatewayConfig['limits']) {
  return {
    placeOrder: {
      operationId: 'placeOrder',
      summary: 'Place an order',
      description:
        'Reserves stock for every item or none; the order then waits for payment until `expires_at`. ' +
        "The customer is the token's subject (a `customer_id` in the body is refused). " +
        'With an Idempotency-Key, a retry with the same body returns the first answer (status and body, with `Idempotency-Replayed: true`); ' +
        'another body with the same key is 422.',
      tags: ['orders'],
      headers: {
        type: 'object',
        properties: {
          'Idempotency-Key': {
            type: 'string',
            minLength: 1,
            maxLength: 255,
            pattern: '^[\\x21-\\x7e]+$',
            description: '1-255 printable ASCII characters (no spaces), unique per intended order; scoped to the customer.',
          },
        },
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
                unit_price: { ...money, description: 'The price the customer saw; it must equal the catalog price (else 409 price-changed).' },
              },
            },
          },
          address: { type: 'string', minLength: 1, maxLength: limits.maxAddressLength, description: freeText(limits.maxAddressLength), example: '配送地址' },
          payment_method: {
            type: 'string',
            minLength: 1,
            maxLength: limits.maxPaymentMethodLength,
            description:
              `${freeText(limits.maxPaymentMethodLength)} ` +
              'Any text the shop uses, for example card, paypal, bank_transfer, cash_on_delivery, 信用卡; it is not checked against a list.',
            example: '信用卡',
          },
        },
      },
      response: {
        201: success(
          'The order, RESERVED.',
          { $ref: 'Order#' },
          { headers: { Location: RESPONSE_HEADERS.location, 'Idempotency-Replayed': RESPONSE_HEADERS.idempotencyReplayed } },
        ),
        409: conflict(
          'insufficient-stock (`products` names each short product), price-changed (`current_prices`), ' +
            'or idempotency-key-in-flight (the first request with this key is still running).',
        ),
        422: problemResponse('422 unknown-product (`products` names them) or idempotency-key-reused (the key was used with another body).'),
      },
    },
    getOrder: {
      operationId: 'getOrder',
      summary: 'Read an order (owner or admin)',
      description:
        "Another customer's order is 404, as a missing one. " +
        'Read-your-writes: after a 201, or a 200 from pay, cancel or ship through this gateway, the order shows that change.',
      tags: ['orders'],
      params: orderIdParams,
      response: { 200: order('The order.') },
    },
    listOrders: {
      operationId: 'listOrders',
      summary: "List the caller's orders, newest first",
      description:
        'Read from the read side, which follows the writes; ' +
        "the first page shows the caller's own recent changes through this gateway at once (read-your-writes). Page with next_page_token.",
      tags: ['orders'],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          page_size: { type: 'integer', minimum: 1, maximum: limits.maxPageSize, default: 20 },
          page_token: {
            type: 'string',
            maxLength: 1024,
            description: 'A next_page_token from the previous page, unchanged (another one is 400 invalid-page-token).',
          },
        },
      },
      response: {
        200: success('A page of orders.', {
          type: 'object',
          properties: {
            orders: { type: 'array', items: { $ref: 'Order#' } },
            next_page_token: { type: 'string', description: 'Empty on the last page.' },
          },
          required: ['orders', 'next_page_token'],
        }),
      },
    },
    cancelOrder: {
      operationId: 'cancelOrder',
      summary: 'Cancel a RESERVED order (owner or admin); its stock is released',
      description: 'Cancelling an order that is already CANCELLED answers 200 with the order (a safe retry).',
      tags: ['orders'],
      params: orderIdParams,
      response: { 200: order('The order, CANCELLED.'), 409: conflict('invalid-transition: the order is PAID, SHIPPED or EXPIRED.') },
    },
    payOrder: {
      operationId: 'payOrder',
      summary: 'Pay a RESERVED order before it expires (owner); the reservation becomes a sale',
      description:
        'Only the owner pays (an admin is not the owner: 404). ' +
        'Paying an order that is already PAID answers 200 with the order and changes nothing (a safe retry); ' +
        'a SHIPPED, CANCELLED or EXPIRED order is 409 invalid-transition, and a RESERVED order past `expires_at` is 409 order-expired.',
      tags: ['orders'],
      params: orderIdParams,
      response: {
        200: order('The order, PAID.'),
        409: conflict('invalid-transition (the order is SHIPPED, CANCELLED or EXPIRED) or order-expired (the payment window closed).'),
      },
    },
    shipOrder: {
      operationId: 'shipOrder',
      summary: 'Ship a PAID order (admin)',
      description: 'Shipping an order that is already SHIPPED answers 200 with the order (a safe retry).',
      tags: ['orders'],
      params: orderIdParams,
      response: { 200: order('The order, SHIPPED.'), 409: conflict('invalid-transition: the order is not PAID.') },
    },
    getOrderHistory: {
      operationId: 'getOrderHistory',
      summary: "An order's status changes, oldest first: when, who and why (owner or admin)",
      description: "Read from the command side, so it is current as soon as a change answered. Another customer's order is 404, as a missing one.",
      tags: ['orders'],
      params: orderIdParams,
      response: {
        200: success('The history.', {
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
                    required: ['kind'],
                  },
                  reason: {
                    type: 'string',
                    description: 'For example placed, paid, cancelled by the customer, cancelled by an admin, shipped, payment window expired.',
                  },
                },
                required: ['version', 'status', 'occurred_at', 'actor', 'reason'],
              },
            },
          },
          required: ['order_id', 'entries'],
        }),
      },
    },
    putProduct: {
      operationId: 'putProduct',
      summary: 'Create or update a product (admin)',
      description: 'stock sets the quantity available now.',
      tags: ['products'],
      params: productIdParams,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'price', 'stock'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200, description: freeText(200) },
          price: money,
          stock: { type: 'integer', minimum: 0, maximum: 1_000_000_000 },
        },
      },
      response: { 200: success('Updated.', { $ref: 'Product#' }), 201: success('Created.', { $ref: 'Product#' }) },
    },
    getProduct: {
      operationId: 'getProduct',
      summary: 'Read a product (anyone)',
      tags: ['products'],
      params: productIdParams,
      response: { 200: success('The product.', { $ref: 'Product#' }) },
    },
    adjustStock: {
      operationId: 'adjustStock',
      summary: "Change a product's available stock by a delta (admin)",
      description:
        'Adds delta (negative: removes) to the available stock, and records it with the reason (trimmed) and the admin. ' +
        'A negative delta larger than what is available (reserved stock does not count) is 409 stock-adjustment-refused and changes nothing.',
      tags: ['products'],
      params: productIdParams,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['delta', 'reason'],
        properties: {
          delta: { type: 'integer', minimum: -1_000_000_000, maximum: 1_000_000_000, description: 'Not 0.' },
          reason: { type: 'string', minLength: 1, maxLength: 200, description: 'Why, in any script; 1-200 characters after trimming.' },
        },
      },
      response: {
        200: success('The product, with its new available stock.', { $ref: 'Product#' }),
        409: conflict('stock-adjustment-refused: the delta would take available below 0 (`products` says what is available).'),
      },
    },
    listAllOrders: {
      operationId: 'listAllOrders',
      summary: "List every customer's orders, newest first (admin)",
      description: 'Optionally one status and one customer. page_token is the next_page_token of the previous page, with the same filters.',
      tags: ['admin'],
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
        200: success('A page of orders.', {
          type: 'object',
          properties: { orders: { type: 'array', items: { $ref: 'Order#' } }, next_page_token: { type: 'string', description: 'Empty on the last page.' } },
          required: ['orders', 'next_page_token'],
        }),
      },
    },
  };
}
