import { startedSince } from './stack-guard';

describe('startedSince', () => {
  it('when a run started servers that were not running, then exactly those are the ones to stop', () => {
    expect(startedSince(new Set(), new Set(['mariadb-0', 'redis-0', 'nats']))).toEqual(['mariadb-0', 'redis-0', 'nats']);
  });

  it('when everything was running already (npm start), then nothing is to stop', () => {
    const all = new Set(['mariadb-0', 'mariadb-1', 'redis-0', 'nats']);
    expect(startedSince(all, new Set(all))).toEqual([]);
  });

  it('when part was running, then only the rest is to stop; one that stopped meanwhile is not named', () => {
    expect(startedSince(new Set(['redis-0', 'redis-1']), new Set(['redis-0', 'mariadb-0', 'nats']))).toEqual(['mariadb-0', 'nats']);
  });
});
