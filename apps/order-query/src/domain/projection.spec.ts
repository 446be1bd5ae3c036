import { changesView, decideProjection, ProjectionStats } from './projection';

const at = (version: number, customerId = 'alice') => ({ version, customerId });

describe('the projection rule', () => {
  it.each([
    ['nothing projected, version 1', undefined, 1, 'insert'],
    ['nothing projected, version 2', undefined, 2, 'out-of-order'],
    ['version 1 projected, version 2', at(1), 2, 'apply'],
    ['version 3 projected, version 4', at(3), 4, 'apply'],
    ['version 1 projected, version 1 again', at(1), 1, 'duplicate'],
    ['version 3 projected, version 2 late', at(3), 2, 'duplicate'],
    ['version 1 projected, version 3 (2 missing)', at(1), 3, 'out-of-order'],
  ] as const)('when %s, then it is %s', (_, current, version, expected) => {
    expect(decideProjection(current, at(version))).toBe(expected);
  });

  it('when the view holds the order for another customer, then the event is a conflict whatever its version', () => {
    for (const version of [1, 2, 3]) expect(decideProjection(at(1, 'bob'), at(version, 'alice'))).toBe('conflict');
  });

  it('when the decision is insert or apply, then the view changes; otherwise it does not', () => {
    expect(['insert', 'apply', 'duplicate', 'out-of-order', 'conflict'].filter((d) => changesView(d as never))).toEqual(['insert', 'apply']);
  });
});

describe('projection stats', () => {
  it('when events are applied, then the count, the last applied time and the newest occurrence are kept', () => {
    const stats = new ProjectionStats();
    stats.recordApplied(new Date('2026-01-01T00:00:02Z'), new Date('2026-01-01T00:00:05Z'));
    stats.recordApplied(new Date('2026-01-01T00:00:01Z'), new Date('2026-01-01T00:00:06Z'));
    stats.recordDeadLettered();
    expect(stats).toMatchObject({
      eventsApplied: 2,
      eventsDeadLettered: 1,
      lastAppliedAt: new Date('2026-01-01T00:00:06Z'),
      lastAppliedOccurredAt: new Date('2026-01-01T00:00:02Z'),
    });
  });
});
