// Shared by the domain's specs (no production code imports it): one order, the actors and the clock they use.
import type { Actor, Order, OrderStatus } from './model';

export const NOW = new Date('2026-01-01T00:00:00Z');
export const customer: Actor = { customerId: 'c', admin: false };
export const admin: Actor = { customerId: 'ops', admin: true };
export const STATUSES: OrderStatus[] = ['PENDING', 'RESERVED', 'PAID', 'SHIPPED', 'CANCELLED', 'EXPIRED', 'FAILED'];

/** Order 1 of customer c at version 1, placed at NOW, its payment window ending 15 minutes later; `overrides` set the rest. */
export const anOrder = (status: OrderStatus, overrides: Partial<Order> = {}): Order => ({
  id: '1',
  customerId: 'c',
  status,
  items: [],
  totalMinor: 0,
  address: 'a',
  paymentMethod: 'card',
  version: 1,
  createdAt: NOW,
  updatedAt: NOW,
  expiresAt: new Date('2026-01-01T00:15:00Z'),
  ...overrides,
});
