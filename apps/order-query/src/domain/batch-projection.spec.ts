import { decideBatch } from './batch-projection';
import { decideProjection, ProjectedState } from './projection';

const event = (orderId: string, version: number, customerId = 'alice') => ({ orderId, version, customerId });
const stored = (entries: Record<string, ProjectedState> = {}) => new Map(Object.entries(entries));

describe('the projection rule over a batch', () => {
  it('when versions 1, 2 and 3 of a new order are in one batch, then they chain: insert, apply, apply', () => {
    expect(decideBatch([event('1', 1), event('1', 2), event('1', 3)], stored())).toEqual(['insert', 'apply', 'apply']);
  });

  it('when a version repeats in the batch or is already stored, then it is a duplicate', () => {
    expect(decideBatch([event('1', 1), event('1', 1), event('2', 2)], stored({ 2: { version: 3, customerId: 'alice' } }))).toEqual([
      'insert',
      'duplicate',
      'duplicate',
    ]);
  });

  it('when a version comes before its predecessor in the batch, then it is out of order and the predecessor still applies', () => {
    expect(decideBatch([event('1', 3), event('1', 2)], stored({ 1: { version: 1, customerId: 'alice' } }))).toEqual(['out-of-order', 'apply']);
  });

  it('when a predecessor is neither stored nor in the batch, then the version is out of order', () => {
    expect(decideBatch([event('1', 2), event('2', 3)], stored({ 2: { version: 1, customerId: 'alice' } }))).toEqual(['out-of-order', 'out-of-order']);
  });

  it('when an event names another customer than the stored view or an earlier event, then it is a conflict and changes nothing', () => {
    const decisions = decideBatch(
      [event('1', 2, 'bob'), event('2', 1), event('2', 2, 'bob'), event('2', 2)],
      stored({ 1: { version: 1, customerId: 'alice' } }),
    );
    expect(decisions).toEqual(['conflict', 'insert', 'conflict', 'apply']);
  });

  it('when orders interleave, then each order is decided as if its events had been projected one at a time', () => {
    const batch = [event('1', 1), event('2', 2), event('1', 2), event('2', 3), event('3', 2), event('1', 2), event('3', 1), event('1', 4)];
    const initial = stored({ 2: { version: 1, customerId: 'alice' } });
    const oneAtATime = new Map(initial);
    const expected = batch.map((e) => {
      const decision = decideProjection(oneAtATime.get(e.orderId), e);
      if (decision === 'insert' || decision === 'apply') oneAtATime.set(e.orderId, e);
      return decision;
    });
    expect(decideBatch(batch, initial)).toEqual(expected);
    expect(expected).toEqual(['insert', 'apply', 'apply', 'apply', 'out-of-order', 'duplicate', 'insert', 'out-of-order']);
  });

  it('when deciding, then the stored states passed in are left as they were', () => {
    const initial = stored({ 1: { version: 1, customerId: 'alice' } });
    decideBatch([event('1', 2)], initial);
    expect(initial.get('1')).toEqual({ version: 1, customerId: 'alice' });
  });
});
