import { formatTargets, issueTargets, TargetFigures } from './targets';

/** The fresh-clone run issue 14 was filed with (uniform p50 and the raw p99 at c=256 as printed then). */
const issueRun: TargetFigures = {
  uniform: { ordersPerSecond: 403, cpuMsPerOrder: 4.8, p50Ms: 150 },
  bareTransaction: { perSecond: 1771, cpuMsPerOperation: 1.0 },
  flash256: { ordersPerSecond: 369, p99Ms: 666 },
  noOversell: true,
  rawUpdate64: { perSecond: 7786 },
  rawUpdate256: { p99Ms: 49 },
  inventoryHot64: { mode: 'batched-calls', perSecond: 2221 },
  readLagP99Ms: 171,
};

const byTarget = (figures: TargetFigures) => Object.fromEntries(issueTargets(figures).map((t) => [t.target.split(' ').slice(0, 3).join(' '), t]));

describe("issue 14's targets", () => {
  it('when the figures are those the issue was filed with, then every ratio is computed from them and each goal is short', () => {
    const t = byTarget(issueRun);
    expect(t['uniform REST orders/s']).toMatchObject({ ratio: 403 / 1771, met: false, figure: '23% (403/s vs 1,771/s)' });
    expect(t['box CPU per']).toMatchObject({ ratio: 4.8, met: false, figure: '4.80x (4.8 ms vs 1.0 ms)' });
    expect(t['hot Reserve driven']).toMatchObject({ ratio: 2221 / 7786, met: false, figure: '0.29x (2,221/s vs 7,786/s)' });
    expect(t['hot Reserve driven']!.note).toBeUndefined();
    expect(t['flash sale c=256']).toMatchObject({ met: false, figure: '0.92x (369/s vs 403/s)' });
    expect(t['flash sale: zero']).toMatchObject({ met: true, figure: 'zero' });
    // Printed as a multiple, with no goal.
    expect(t['flash sale p99']).toMatchObject({ ratio: 666 / 49, met: undefined, figure: '13.59x (666.0 ms vs 49.0 ms)' });
    expect(t['read-side lag p99']).toMatchObject({ ratio: 171 / 150, met: false });
  });

  it('when every figure reaches its goal exactly, then each target is met', () => {
    const t = issueTargets({
      ...issueRun,
      uniform: { ordersPerSecond: 800, cpuMsPerOrder: 2.5, p50Ms: 40 },
      bareTransaction: { perSecond: 2000, cpuMsPerOperation: 1.0 },
      flash256: { ordersPerSecond: 800, p99Ms: 100 },
      inventoryHot64: { mode: 'batched-calls', perSecond: 7786 },
      readLagP99Ms: 40,
    });
    expect(t.filter((x) => x.met !== undefined).map((x) => x.met)).toEqual([true, true, true, true, true, true]);
  });

  it('when stock was oversold, then that target is short whatever the throughput', () => {
    expect(byTarget({ ...issueRun, noOversell: false })['flash sale: zero']).toMatchObject({ met: false, figure: 'VIOLATED' });
  });

  it('when the batched-calls mode was not measured, then the batched mode stands in, with a note; when nothing was, it says so', () => {
    const instead = byTarget({ ...issueRun, inventoryHot64: { mode: 'batched', perSecond: 2221, fromEarlierRun: true } })['hot Reserve driven']!;
    expect(instead.met).toBe(false);
    expect(instead.note).toBe('mode batched-calls not measured: batched (one call per Reserve) instead; from an earlier bench-inventory run (--skip-grpc)');
    const none = byTarget({ ...issueRun, inventoryHot64: undefined })['hot Reserve driven']!;
    expect(none).toMatchObject({ ratio: undefined, met: undefined, figure: 'not measured' });
  });

  it('when formatted, then it is a table: a header, one row per target, the status and target columns aligned', () => {
    const lines = formatTargets(issueTargets(issueRun)).split('\n');
    expect(lines).toHaveLength(8);
    expect(lines[1]).toMatch(/^SHORT {2}uniform REST orders\/s >= 40% of the bare order transaction +23% \(403\/s vs 1,771\/s\)$/);
    expect(lines[5]).toMatch(/^met {4}flash sale: zero oversell +zero$/);
    expect(lines[6]).toMatch(/^shown {2}flash sale p99/);
    const figureColumn = lines[0]!.indexOf('figure');
    expect(lines.slice(1).every((line) => line.length > figureColumn && line[figureColumn - 1] === ' ' && line[figureColumn - 2] === ' ')).toBe(true);
  });
});
