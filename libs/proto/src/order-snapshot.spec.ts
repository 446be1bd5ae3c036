import { orderFromProto, orderStatusFromProto, orderStatusToProto, orderToProto, orderV1, type OrderSnapshot } from './index';

const at = new Date('2026-01-02T03:04:05.678Z');
const snapshot: OrderSnapshot = {
  id: '42',
  customerId: 'c1',
  status: 'PAID',
  items: [{ productId: 'p1', quantity: 2, unitPriceMinor: 150 }],
  totalMinor: 300,
  address: '配送地址',
  paymentMethod: '信用卡',
  version: 2,
  createdAt: at,
  updatedAt: at,
  expiresAt: at,
};

describe('order snapshot <-> orderflow.order.v1.Order', () => {
  it('when a snapshot goes to the wire and back, then it comes back equal', () => {
    const wire = orderV1.Order.decode(orderV1.Order.encode(orderToProto(snapshot)).finish());
    expect(wire.status).toBe(orderV1.OrderStatus.ORDER_STATUS_PAID);
    expect(orderFromProto(wire)).toEqual(snapshot);
  });

  it('when a status is one the contract does not carry (PENDING, FAILED), then it is UNSPECIFIED on the wire', () => {
    expect(orderStatusToProto('PENDING')).toBe(orderV1.OrderStatus.ORDER_STATUS_UNSPECIFIED);
    expect(orderToProto({ ...snapshot, status: 'FAILED' }).status).toBe(orderV1.OrderStatus.ORDER_STATUS_UNSPECIFIED);
  });

  it('when a wire status is UNSPECIFIED or unknown, then it reads as undefined', () => {
    expect(orderStatusFromProto(orderV1.OrderStatus.ORDER_STATUS_UNSPECIFIED)).toBeUndefined();
    expect(orderStatusFromProto(orderV1.OrderStatus.UNRECOGNIZED)).toBeUndefined();
    expect(orderFromProto({ ...orderToProto(snapshot), status: 99 as orderV1.OrderStatus }).status).toBeUndefined();
  });

  it('when every status name goes to the wire and back, then it is the same name', () => {
    for (const name of ['RESERVED', 'PAID', 'SHIPPED', 'CANCELLED', 'EXPIRED'] as const) expect(orderStatusFromProto(orderStatusToProto(name))).toBe(name);
  });

  it('when an object carries more than the order fields, then only the order fields are copied', () => {
    const extra = { ...snapshot, items: [{ ...snapshot.items[0]!, note: 'x' }], note: 'y' };
    expect(orderToProto(extra)).toEqual({ ...snapshot, status: orderV1.OrderStatus.ORDER_STATUS_PAID });
  });
});
