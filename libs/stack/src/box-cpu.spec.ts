import { withBoxCpu } from './box-cpu';

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
});
