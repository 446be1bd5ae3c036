import { InvalidPageTokenError } from './errors';
import { createPageCursors } from './page-cursor';

const cursors = createPageCursors('a-test-secret-of-some-length');
const cursor = { customerId: 'alice', lastOrderId: '9223372036854775807' };

describe('page cursors', () => {
  it('when a token is decoded for its customer, then it gives back the cursor, 64-bit id intact', () => {
    expect(cursors.decode(cursors.encode(cursor), 'alice')).toEqual(cursor);
  });

  it('when any single character of a token is changed, then it is refused', () => {
    const token = cursors.encode(cursor);
    for (let i = 0; i < token.length; i++) {
      for (const replacement of ['A', 'B', '-', '.']) {
        if (token[i] === replacement) continue;
        const tampered = token.slice(0, i) + replacement + token.slice(i + 1);
        expect(() => cursors.decode(tampered, 'alice')).toThrow(InvalidPageTokenError);
      }
    }
  });

  it('when a token minted for one customer is used for another, then it is refused', () => {
    expect(() => cursors.decode(cursors.encode(cursor), 'bob')).toThrow(InvalidPageTokenError);
  });

  it('when a token was signed with another secret, then it is refused', () => {
    expect(() => cursors.decode(createPageCursors('another-secret-of-some-length').encode(cursor), 'alice')).toThrow(InvalidPageTokenError);
  });

  it.each([
    ['empty', ''],
    ['garbage', 'not a token'],
    ['three parts', 'a.b.c'],
    ['very long', 'x'.repeat(10_000)],
  ])('when the token is %s, then it is refused', (_, token) => {
    expect(() => cursors.decode(token, 'alice')).toThrow(InvalidPageTokenError);
  });

  it('when a correctly signed payload holds no valid order id, then it is refused', () => {
    const forged = createPageCursors('a-test-secret-of-some-length').encode({ customerId: 'alice', lastOrderId: '-1' });
    expect(() => cursors.decode(forged, 'alice')).toThrow(InvalidPageTokenError);
  });

  it('when the secret is too short, then the codec refuses to start', () => {
    expect(() => createPageCursors('short')).toThrow('at least 16');
  });
});

describe('admin listing page cursors', () => {
  const filter = { status: 'PAID' as const, customerId: 'alice' };
  const allCursor = { filter, lastOrderId: '9223372036854775807' };

  it('when a token is decoded with the filter it was issued for, then it gives back the last order id', () => {
    expect(cursors.decodeAllOrders(cursors.encodeAllOrders(allCursor), filter)).toEqual(allCursor);
    expect(cursors.decodeAllOrders(cursors.encodeAllOrders({ filter: {}, lastOrderId: '42' }), {}).lastOrderId).toBe('42');
  });

  it('when a token is used with other filters, then it is refused', () => {
    const token = cursors.encodeAllOrders(allCursor);
    for (const other of [
      {},
      { status: 'PAID' as const },
      { customerId: 'alice' },
      { status: 'SHIPPED' as const, customerId: 'alice' },
      { status: 'PAID' as const, customerId: 'bob' },
    ]) {
      expect(() => cursors.decodeAllOrders(token, other)).toThrow(InvalidPageTokenError);
    }
  });

  it('when any single character of a token is changed, then it is refused', () => {
    const token = cursors.encodeAllOrders(allCursor);
    for (let i = 0; i < token.length; i++) {
      const tampered = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
      expect(() => cursors.decodeAllOrders(tampered, filter)).toThrow(InvalidPageTokenError);
    }
  });

  it("when a customer's listing token is used for the admin listing, or the other way round, then it is refused", () => {
    expect(() => cursors.decodeAllOrders(cursors.encode(cursor), { customerId: 'alice' })).toThrow(InvalidPageTokenError);
    expect(() => cursors.decode(cursors.encodeAllOrders({ filter: { customerId: 'alice' }, lastOrderId: '42' }), 'alice')).toThrow(InvalidPageTokenError);
  });
});
