import { connectionsTo, cpuUsPerCall, formatWinsTable, median, processCpuSeconds, roundOrder, summarizeWins, WinMeasurement } from './grpc-wins';

const line = (variant: string, round: number, callsPerSecond: number, clientCpuUsPerCall: number, serverCpuUsPerCall: number, errors = 0): WinMeasurement => ({
  variant,
  round,
  calls: callsPerSecond,
  errors,
  callsPerSecond,
  clientCpuUsPerCall,
  serverCpuUsPerCall,
});

describe('median', () => {
  it('when the count is odd, then it is the middle value whatever the order', () => {
    expect(median([9, 1, 5])).toBe(5);
  });

  it('when the count is even, then it is the mean of the middle two', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('when there is nothing, then it is NaN (not a figure that looks measured)', () => {
    expect(median([])).toBeNaN();
  });
});

describe('roundOrder', () => {
  it('when rounds alternate, then odd rounds keep the order and even ones reverse it, without touching the list given', () => {
    const variants = ['A', 'B', 'C'];
    expect(roundOrder(variants, 1)).toEqual(['A', 'B', 'C']);
    expect(roundOrder(variants, 2)).toEqual(['C', 'B', 'A']);
    expect(roundOrder(variants, 3)).toEqual(['A', 'B', 'C']);
    expect(variants).toEqual(['A', 'B', 'C']);
  });
});

describe('cpuUsPerCall', () => {
  it('when 0.5 CPU seconds served 10,000 calls, then each cost 50 µs; with no call, the CPU is not divided by zero', () => {
    expect(cpuUsPerCall(0.5, 10_000)).toBe(50);
    expect(cpuUsPerCall(0.002, 0)).toBe(2000);
  });
});

describe('summarizeWins', () => {
  const measurements = [
    line('all on', 1, 10_000, 40, 30),
    line('channelz on', 1, 9_000, 44, 33),
    line('channelz on', 2, 8_000, 46, 34),
    line('all on', 2, 8_000, 42, 32),
    line('all on', 3, 12_000, 38, 28),
    line('channelz on', 3, 11_400, 40, 30, 2),
  ];

  it('when a variant ran in three rounds, then its ratios are taken within each round and their median is kept, not the ratio of the medians', () => {
    const [allOn, channelz] = summarizeWins(measurements, ['all on', 'channelz on'], 'all on');
    expect(allOn).toMatchObject({ variant: 'all on', rounds: 3, callsPerSecond: 10_000, throughputRatio: 1, cpuRatio: 1, cpuUsPerCall: 70 });
    // Per round: 0.9, 1.0, 0.95 -> 0.95 (the ratio of the medians would be 9,000 / 10,000 = 0.9).
    expect(channelz!.throughputRatio).toBeCloseTo(0.95, 10);
    // CPU per call, both processes: 77/70, 80/74, 70/66.
    expect(channelz!.cpuRatio).toBeCloseTo(median([77 / 70, 80 / 74, 70 / 66]), 10);
    expect(channelz).toMatchObject({ rounds: 3, errors: 2, callsPerSecond: 9_000, clientCpuUsPerCall: 44, serverCpuUsPerCall: 33, cpuUsPerCall: 77 });
  });

  it('when the baseline is missing from a round, then that round gives the variant no ratio; with no pair at all the ratio is NaN', () => {
    const [, partial] = summarizeWins(
      measurements.filter((m) => !(m.variant === 'all on' && m.round === 2)),
      ['all on', 'channelz on'],
      'all on',
    );
    expect(partial!.throughputRatio).toBeCloseTo(median([0.9, 0.95]), 10);
    const [alone] = summarizeWins([line('debug log on', 1, 5_000, 50, 60)], ['debug log on'], 'all on');
    expect(alone!.throughputRatio).toBeNaN();
  });
});

describe('formatWinsTable', () => {
  it('when formatted, then there is a header and one row per variant, figures right-aligned under their column, ratios as multiples', () => {
    const table = formatWinsTable(
      summarizeWins(
        [line('all on', 1, 12_345, 40, 30), line('fresh Metadata per call', 1, 12_000, 41.04, 30)],
        ['all on', 'fresh Metadata per call'],
        'all on',
      ),
    );
    const [header, allOn, fresh] = table.split('\n');
    expect(table.split('\n')).toHaveLength(3);
    expect(allOn).toMatch(/^all on +12,345 +40\.0 +30\.0 +70\.0 +1\.000x +1\.000x +0$/);
    expect(fresh).toMatch(/^fresh Metadata per call +12,000 +41\.0 +30\.0 +71\.0 +0\.972x +1\.015x +0$/);
    // Right-aligned: every row ends where the header does, and each figure ends where its column's name ends.
    expect(new Set([header, allOn, fresh].map((l) => l!.length)).size).toBe(1);
    const endOf = (name: string) => header!.indexOf(name) + name.length;
    expect(allOn!.slice(0, endOf('calls/s')).endsWith('12,345')).toBe(true);
    expect(fresh!.slice(0, endOf('calls/s vs all on')).endsWith('0.972x')).toBe(true);
  });

  it('when a figure is missing, then it reads "-" rather than NaN', () => {
    const table = formatWinsTable(summarizeWins([line('debug log on', 1, 5_000, 50, 60)], ['debug log on'], 'all on'));
    expect(table).not.toContain('NaN');
    expect(table.split('\n')[1]).toMatch(/ - +- +0$/);
  });
});

describe('processCpuSeconds', () => {
  it('when the command name holds spaces and parentheses, then utime and stime are still read from the right fields', () => {
    const stat = '4242 (node (grpc) floor) S 1 4242 4242 0 -1 4194304 101 0 0 0 1234 566 0 0 20 0 11 0 5063108 3133440 416';
    expect(processCpuSeconds(stat)).toBeCloseTo(18, 10);
  });
});

describe('connectionsTo', () => {
  const tcp = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    // The server listening on 50153 (0xC3E9): not a connection.
    '   0: 0100007F:C3E9 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0',
    // Two clients connected to it, and the server's ends of those connections (local port 50153).
    '   1: 0100007F:A5F2 0100007F:C3E9 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0',
    '   2: 0100007F:A5F4 0100007F:C3E9 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0',
    '   3: 0100007F:C3E9 0100007F:A5F2 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0 100 0 0 10 0',
    '   4: 0100007F:C3E9 0100007F:A5F4 01 00000000:00000000 00:00000000 00000000     0        0 5 1 0 100 0 0 10 0',
    // One closing (TIME_WAIT) and one to another port.
    '   5: 0100007F:A5F6 0100007F:C3E9 06 00000000:00000000 00:00000000 00000000     0        0 0 1 0 100 0 0 10 0',
    '   6: 0100007F:A5F8 0100007F:5DC0 01 00000000:00000000 00:00000000 00000000     0        0 6 1 0 100 0 0 10 0',
    '',
  ].join('\n');

  it('when two clients are connected to the port, then it counts two: established, once each, only that port', () => {
    expect(connectionsTo(tcp, 50153)).toBe(2);
    expect(connectionsTo(tcp, 24000)).toBe(1);
    expect(connectionsTo(tcp, 1)).toBe(0);
  });
});
