import { createRecentWrites, unseenWrites, withFresher } from './recent-writes';

describe('recent writes', () => {
  let clock = 0;
  const writes = (maxOrders = 100) => createRecentWrites({ ttlMs: 1_000, maxOrders, perCustomer: 3, now: () => clock });
  beforeEach(() => (clock = 0));

  it('when an order is written, then its version is the bar for reads until the time to live passes', () => {
    const w = writes();
    w.record({ orderId: '10', customerId: 'alice', version: 1 });
    w.record({ orderId: '10', customerId: 'alice', version: 2 });
    expect(w.versionOf('10')).toBe(2);
    expect(w.versionOf('11')).toBe(0);
    clock = 1_001;
    expect(w.versionOf('10')).toBe(0);
    expect(w.size).toBe(0);
  });

  it('when a replayed answer carries an older version, then the bar is not lowered', () => {
    const w = writes();
    w.record({ orderId: '10', customerId: 'alice', version: 3 });
    w.record({ orderId: '10', customerId: 'alice', version: 1 });
    expect(w.versionOf('10')).toBe(3);
  });

  it('when more orders are written than it may hold, then the least recently written are forgotten', () => {
    const w = writes(2);
    w.record({ orderId: '1', customerId: 'a', version: 1 });
    w.record({ orderId: '2', customerId: 'a', version: 1 });
    w.record({ orderId: '1', customerId: 'a', version: 2 }); // written again: now the newest
    w.record({ orderId: '3', customerId: 'b', version: 1 });
    expect([w.versionOf('1'), w.versionOf('2'), w.versionOf('3')]).toEqual([2, 0, 1]);
  });

  it("when a customer's writes are asked for, then the newest few come first, and no one else's", () => {
    const w = writes();
    for (const id of ['1', '2', '3', '4']) w.record({ orderId: id, customerId: 'alice', version: 1 });
    w.record({ orderId: '5', customerId: 'bob', version: 1 });
    w.record({ orderId: '2', customerId: 'alice', version: 2 });
    expect(w.ofCustomer('alice')).toEqual([
      { orderId: '2', customerId: 'alice', version: 2 },
      { orderId: '4', customerId: 'alice', version: 1 },
      { orderId: '3', customerId: 'alice', version: 1 },
    ]);
    expect(w.ofCustomer('carol')).toEqual([]);
  });
});

describe('unseenWrites', () => {
  const page = [
    { id: '900', version: 1 },
    { id: '800', version: 2 },
  ];
  const write = (orderId: string, version: number) => ({ orderId, customerId: 'alice', version });

  it('when a listed order is older than its write, then it is unseen; when it is as new, then not', () => {
    expect(unseenWrites(page, true, [write('900', 2), write('800', 2)])).toEqual([write('900', 2)]);
  });

  it('when a written order is missing, then it is unseen if it belongs on this page (newer than its last, or the last page)', () => {
    expect(unseenWrites(page, true, [write('950', 1), write('700', 1)])).toEqual([write('950', 1)]);
    expect(unseenWrites(page, false, [write('700', 1)])).toEqual([write('700', 1)]);
    expect(unseenWrites([], false, [write('1', 1)])).toEqual([write('1', 1)]);
  });

  it('when ids are longer than a double holds exactly, then they still compare right', () => {
    expect(unseenWrites([{ id: '9007199254740993', version: 1 }], true, [write('9007199254740994', 1)])).toHaveLength(1);
    expect(unseenWrites([{ id: '9007199254740994', version: 1 }], true, [write('9007199254740993', 1)])).toHaveLength(0);
  });
});

describe('withFresher', () => {
  it('when fresher copies come, then listed ones are replaced in place and missing ones sorted in, newest first', () => {
    const page = [
      { id: '900', version: 1, s: 'old' },
      { id: '800', version: 1, s: 'old' },
    ];
    const fresher = [
      { id: '800', version: 2, s: 'new' },
      { id: '950', version: 1, s: 'new' },
      { id: '850', version: 1, s: 'new' },
    ];
    expect(withFresher(page, fresher, 2).map((o) => `${o.id}:${o.version}:${o.s}`)).toEqual(['950:1:new', '900:1:old', '850:1:new', '800:2:new']);
  });

  it('when there is less room than missing orders, then only the newest missing ones are put in', () => {
    const fresher = [
      { id: '5', version: 1 },
      { id: '7', version: 1 },
      { id: '6', version: 1 },
    ];
    expect(withFresher([{ id: '4', version: 1 }], fresher, 2).map((o) => o.id)).toEqual(['7', '6', '4']);
    expect(withFresher([{ id: '4', version: 1 }], fresher, 0).map((o) => o.id)).toEqual(['4']);
  });

  it('when a "fresher" copy is not newer, then the listed one stays', () => {
    expect(withFresher([{ id: '1', version: 3 }], [{ id: '1', version: 2 }], 1)).toEqual([{ id: '1', version: 3 }]);
  });
});
