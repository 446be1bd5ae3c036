import { formatAlerts, formatCheck, formatFailures, formatMarkdownTable, formatTable } from './report';
import type { WindowStats } from './ledger';

const stats: WindowStats[] = [
  {
    fault: 'kill:orderCommand',
    requests: 1234,
    ok2xx: 1000,
    client4xx: 30,
    server5xx: 150,
    transportErrors: 54,
    failures: { '503 /problems/unavailable': 150, ECONNREFUSED: 4, timeout: 50 },
    firstCreatedAfterFaultS: 3.14159,
    recoveredAfterS: 3.5,
    unknownBefore: 204,
    unknownAfter: 0,
  },
  {
    fault: 'term:gateway',
    requests: 99,
    ok2xx: 90,
    client4xx: 0,
    server5xx: 0,
    transportErrors: 9,
    failures: {},
    unknownBefore: 9,
    alerts: ['OrderflowTargetDown{127.0.0.1:1} fired +1 s, resolved +4 s'],
  },
];

describe('report', () => {
  it('when formatted as text, then columns line up, numbers right-aligned, missing figures a dash', () => {
    expect(formatTable(stats).split('\n')).toEqual([
      'fault              requests   2xx  4xx  5xx  transport errors  s to first 201  s to recovered  unknown before retries  unknown after',
      'kill:orderCommand      1234  1000   30  150                54             3.1             3.5                     204              0',
      'term:gateway             99    90    0    0                 9               -               -                       9              -',
    ]);
  });

  it('when formatted as Markdown, then it is a table with a header separator', () => {
    const lines = formatMarkdownTable(stats).split('\n');
    expect(lines[0]).toBe(
      '| fault | requests | 2xx | 4xx | 5xx | transport errors | s to first 201 | s to recovered | unknown before retries | unknown after |',
    );
    expect(lines[1]).toBe('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    expect(lines[3]).toBe('| term:gateway | 99 | 90 | 0 | 0 | 9 | - | - | 9 | - |');
  });

  it('when failures are formatted, then each window lists its kinds, most frequent first', () => {
    expect(formatFailures(stats)).toBe('kill:orderCommand    150 x 503 /problems/unavailable, 50 x timeout, 4 x ECONNREFUSED\nterm:gateway         none');
  });

  it('when alerts and checks are formatted, then each is one line', () => {
    expect(formatAlerts(stats)).toBe('kill:orderCommand    none\nterm:gateway         OrderflowTargetDown{127.0.0.1:1} fired +1 s, resolved +4 s');
    expect(formatCheck({ name: 'x', pass: false, detail: '1 lost' })).toBe('FAIL  x: 1 lost');
    expect(formatCheck({ name: 'y', pass: true, detail: 'none lost' })).toBe('PASS  y: none lost');
    expect(formatCheck({ name: 'z', pass: true, detail: '12 5xx', informational: true })).toBe('INFO  z: 12 5xx');
  });
});
