import { InvalidTransitionError, OrderNotFoundError } from './errors';
import type { Order, OrderStatus } from './model';
import { anOrder, customer, NOW } from './order.fixtures';
import { cancel, expire, pay } from './order.aggregate';
import { createOrderChange } from './order-change';
import type { OrderRepository } from './ports';

const stored = (status: OrderStatus, version = 1): Order => anOrder(status, { version });

/** One order in memory; with `raced`, someone else moved it there first and the guarded UPDATE matches nothing. */
function harness(initial: Order | undefined, options: { raced?: OrderStatus } = {}) {
  let current = initial;
  const calls: string[] = [];
  const repository = {
    get: async () => current,
    transition: async (_id: string, spec: { to: OrderStatus }, event: (after: Order) => { kind: string }) => {
      if (options.raced) {
        current = stored(options.raced, 2);
        calls.push('transition refused');
        return undefined;
      }
      current = { ...current!, status: spec.to, version: current!.version + 1 };
      calls.push(`transition ${spec.to} event ${event(current).kind}`);
      return current;
    },
  } as unknown as OrderRepository;
  const changeOrder = createOrderChange({
    repository,
    clock: { now: () => NOW },
    outbox: { notify: () => void calls.push('notify') },
    getOrder: async () => {
      calls.push('get visible');
      if (!current) throw new OrderNotFoundError('1');
      return current;
    },
    settleStock: async (orderId, action, reason) => {
      calls.push(`settle ${action} ${reason}`);
      return true;
    },
  });
  return { changeOrder, calls };
}

describe('a status change (changeOrder)', () => {
  it('when the change is allowed, then it is stored with its event, the relay wakes, and the stock it owes is settled after', async () => {
    const { changeOrder, calls } = harness(stored('RESERVED'));
    const order = await changeOrder('1', customer, (o, now) => cancel(o, customer, now));
    expect([order.status, order.version]).toEqual(['CANCELLED', 2]);
    expect(calls).toEqual(['get visible', 'transition CANCELLED event cancelled', 'notify', 'settle RELEASE cancelled']);
  });

  it('when the system expires an order, then it reads the order without an actor and releases its stock as expired', async () => {
    const { changeOrder, calls } = harness(stored('RESERVED'));
    expect((await changeOrder('1', undefined, expire)).status).toBe('EXPIRED');
    expect(calls).toEqual(['transition EXPIRED event expired', 'notify', 'settle RELEASE expired']);
  });

  it('when the order is already in the target state, then it comes back as it is: nothing is prepared, stored, woken or settled', async () => {
    const { changeOrder, calls } = harness(stored('PAID'));
    const prepare = jest.fn(async () => undefined);
    expect((await changeOrder('1', customer, (o, now) => pay(o, customer, now), prepare)).status).toBe('PAID');
    expect(prepare).not.toHaveBeenCalled();
    expect(calls).toEqual(['get visible']);
  });

  it('when the change is refused, then nothing is prepared or stored', async () => {
    const { changeOrder, calls } = harness(stored('SHIPPED'));
    const prepare = jest.fn(async () => undefined);
    await expect(changeOrder('1', customer, (o, now) => pay(o, customer, now), prepare)).rejects.toBeInstanceOf(InvalidTransitionError);
    expect(prepare).not.toHaveBeenCalled();
    expect(calls).toEqual(['get visible']);
  });

  it('when the preparation fails, then nothing is stored and its error is the answer', async () => {
    const { changeOrder, calls } = harness(stored('RESERVED'));
    const error = new Error('inventory unreachable');
    await expect(
      changeOrder(
        '1',
        customer,
        (o, now) => pay(o, customer, now),
        () => Promise.reject(error),
      ),
    ).rejects.toBe(error);
    expect(calls).toEqual(['get visible']);
  });

  it('when the system finds no order, then it is not found', async () => {
    const { changeOrder } = harness(undefined);
    await expect(changeOrder('1', undefined, expire)).rejects.toBeInstanceOf(OrderNotFoundError);
  });

  it('when someone else made the same change first, then it is success with the order as they left it, and nothing is woken or settled here', async () => {
    const { changeOrder, calls } = harness(stored('RESERVED'), { raced: 'CANCELLED' });
    expect(await changeOrder('1', customer, (o, now) => cancel(o, customer, now))).toEqual(stored('CANCELLED', 2));
    expect(calls).toEqual(['get visible', 'transition refused']);
  });

  it('when someone else made another change first, then it is an invalid transition naming the status it is in now', async () => {
    const { changeOrder } = harness(stored('RESERVED'), { raced: 'PAID' });
    const error = await changeOrder('1', customer, (o, now) => cancel(o, customer, now)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidTransitionError);
    expect(error).toMatchObject({ status: 'PAID' });
  });
});
