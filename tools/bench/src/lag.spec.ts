import { formatLagBreakdown, lagBreakdown, LagSample } from './lag';

const at = (occurredAt: number, storedAt: number | undefined, sentAt: number | undefined, projectedAt: number): LagSample => ({
  occurredAt,
  ...(storedAt === undefined ? {} : { storedAt }),
  ...(sentAt === undefined ? {} : { sentAt }),
  projectedAt,
});

describe('the read-side lag breakdown', () => {
  it('when every time is known, then each segment is the difference of its two times, as nearest-rank p50/p99 and the max', () => {
    const samples = Array.from({ length: 100 }, (_, i) => at(1000 * i, 1000 * i + 10 + i, 1000 * i + 20 + i, 1000 * i + 30 + 2 * i));
    const breakdown = lagBreakdown(samples);
    expect(breakdown.total).toEqual({ count: 100, p50: 30 + 98, p99: 30 + 196, max: 30 + 198 });
    expect(breakdown.toStream).toEqual({ count: 100, p50: 10 + 49, p99: 10 + 98, max: 10 + 99 });
    expect(breakdown.streamToProjected).toEqual({ count: 100, p50: 20 + 49, p99: 20 + 98, max: 20 + 99 });
    expect(breakdown.streamToSent).toEqual({ count: 100, p50: 10, p99: 10, max: 10 });
    expect(breakdown.toSent).toEqual({ count: 100, p50: 20 + 49, p99: 20 + 98, max: 20 + 99 });
  });

  it('when the stream time or the sent time is missing for some, then those segments count only the samples that have them', () => {
    const breakdown = lagBreakdown([at(0, 5, undefined, 50), at(100, undefined, 130, 160), at(200, undefined, undefined, 210)]);
    expect(breakdown.total).toEqual({ count: 3, p50: 50, p99: 60, max: 60 });
    expect(breakdown.toStream).toEqual({ count: 1, p50: 5, p99: 5, max: 5 });
    expect(breakdown.streamToProjected).toEqual({ count: 1, p50: 45, p99: 45, max: 45 });
    expect(breakdown.streamToSent.count).toBe(0);
    expect(breakdown.toSent).toEqual({ count: 1, p50: 30, p99: 30, max: 30 });
  });

  it('when projected before the relay marked its row sent, then that segment is negative, not hidden', () => {
    expect(lagBreakdown([at(0, 4, 40, 12)]).streamToSent).toEqual({ count: 1, p50: 36, p99: 36, max: 36 });
    expect(lagBreakdown([at(0, 4, 40, 12)]).total.p50).toBe(12);
  });

  it('when formatted, then each segment with samples is one line, and segments without are left out', () => {
    const lines = formatLagBreakdown(lagBreakdown([at(0, undefined, 20, 31.25)]));
    expect(lines).toEqual([
      'event -> projected: p50 31.3 / p99 31.3 / max 31.3 ms (1)',
      'event -> outbox row marked sent: p50 20.0 / p99 20.0 / max 20.0 ms (1)',
    ]);
    expect(formatLagBreakdown(lagBreakdown([]))).toEqual([]);
  });
});
