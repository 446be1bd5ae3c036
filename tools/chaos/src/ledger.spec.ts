import { Attempt, FaultWindow, Operation, operationsOf, windowStats } from './ledger';

const at = (sentAt: number, answer: Partial<Attempt>, retry = false): Attempt => ({ sentAt, endedAt: sentAt + 10, retry, ...answer });
const place = (key: string, ...attempts: Attempt[]): Operation => ({ kind: 'place', customer: 'c1', key, body: {}, attempts });

describe('windowStats', () => {
  const window: FaultWindow = { fault: 'kill:orderCommand', startedAt: 1_000, faultAt: 5_000, recoveredAt: 8_000, endedAt: 10_000, unknownAfterRetries: 0 };
  const operations: Operation[] = [
    place('before-window', at(500, { status: 201, orderId: '1' })),
    place('ok-before-fault', at(2_000, { status: 201, orderId: '2' })),
    place('cut', at(4_990, { error: 'ECONNRESET' }), at(12_000, { status: 201, orderId: '3' }, true)),
    place('503', at(5_500, { status: 503 }), at(12_100, { status: 201, orderId: '4' }, true)),
    place('sold-out', at(6_000, { status: 409, problemType: '/problems/insufficient-stock' })),
    // sent before the fault, answered after it: not "the first 201 after the fault"
    place('slow', at(4_900, { status: 201, orderId: '5' })),
    place('first-after', { sentAt: 7_000, endedAt: 7_400, retry: false, status: 201, orderId: '6' }),
    { kind: 'pay', customer: 'c1', orderId: '2', attempts: [at(7_500, { status: 200, orderId: '2' })] },
    place('after-window', at(10_000, { status: 201, orderId: '7' })),
  ];

  it('when attempts fall in and around the window, then only first tries sent within it count, by status class', () => {
    expect(windowStats(window, operations)).toEqual({
      fault: 'kill:orderCommand',
      requests: 7,
      ok2xx: 4,
      client4xx: 1,
      server5xx: 1,
      transportErrors: 1,
      failures: { ECONNRESET: 1, '503': 1 },
      firstCreatedAfterFaultS: 2.4,
      recoveredAfterS: 3,
      unknownBefore: 2,
      unknownAfter: 0,
      alerts: undefined,
    });
  });

  it('when the unit never recovered and nothing was created after the fault, then those figures are absent', () => {
    const stats = windowStats({ ...window, recoveredAt: undefined }, [place('x', at(6_000, { status: 503 }))]);
    expect(stats).toMatchObject({ requests: 1, server5xx: 1, firstCreatedAfterFaultS: undefined, recoveredAfterS: undefined, unknownBefore: 1 });
  });

  it('when asked for the operations of a window, then those first tried in it are returned', () => {
    expect(operationsOf(window, operations).map((o) => o.key ?? o.kind)).toEqual(['ok-before-fault', 'cut', '503', 'sold-out', 'slow', 'first-after', 'pay']);
  });
});
