import { cpuMsPerOperation, withBoxCpu } from './box-cpu';

describe('withBoxCpu', () => {
  it('when work keeps a core busy, then the box CPU measured around it counts that time and the result passes through', async () => {
    const measured = await withBoxCpu(async () => {
      const end = Date.now() + 300;
      let spins = 0;
      while (Date.now() < end) spins++;
      return { spins };
    });
    expect(measured.spins).toBeGreaterThan(0);
    expect(measured.boxCpu.busySeconds).toBeGreaterThanOrEqual(0.2); // 0.3 s of one core, in 10 ms ticks
    expect(measured.boxCpu.busyShare).toBeGreaterThan(0);
    expect(measured.boxCpu.busyShare).toBeLessThanOrEqual(1);
  });

  it('when CPU is shared over operations, then each gets its milliseconds, and no operations count as one', () => {
    expect(cpuMsPerOperation({ busySeconds: 2, busyShare: 0.9 }, 1000)).toBe(2);
    expect(cpuMsPerOperation({ busySeconds: 0.5, busyShare: 0.1 }, 0)).toBe(500);
  });
});
