import { formatPhases, parseDuration, progressLine } from './terminal';

describe('the terminal', () => {
  it('when a copy is a quarter done at 100 rows/s, then the bar, the rate and the ETA say so', () => {
    expect(progressLine(250, 1000, 100, 20)).toBe('[#####---------------] 250/1,000 rows 25.0%  100 rows/s  ETA 7.5 s');
  });

  it('when nothing is left to copy, then the bar is full and the ETA zero', () => {
    expect(progressLine(10, 10, 0, 4)).toBe('[####] 10/10 rows 100.0%  0 rows/s  ETA 0 s');
  });

  it('when a move ends, then each finished phase is a row with its time, rows, changes, fenced ms and verify result', () => {
    const table = formatPhases([
      { phase: 'copying', startedAt: 0, endedAt: 1500, rows: 12000 },
      { phase: 'switching', startedAt: 1500, endedAt: 1600, changes: 3, fencedMs: 95, verify: 'ok (12003 rows)' },
      { phase: 'soaking', startedAt: 1600 },
    ]);
    expect(table.split('\n')).toEqual([
      'phase      time    rows    changes applied  fenced ms  verify',
      '---------  ------  ------  ---------------  ---------  ---------------',
      'copying    1.5 s   12,000',
      'switching  100 ms          3                95         ok (12003 rows)',
    ]);
  });

  it('when a duration is given with or without a unit, then it is read in milliseconds', () => {
    expect(parseDuration('60s', '--soak')).toBe(60_000);
    expect(parseDuration('1', '--soak')).toBe(1_000);
    expect(parseDuration('250ms', '--soak')).toBe(250);
    expect(parseDuration('2m', '--soak')).toBe(120_000);
    expect(() => parseDuration('soon', '--soak')).toThrow('--soak must be a duration');
  });
});
