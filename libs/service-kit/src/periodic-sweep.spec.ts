import { PeriodicSweep } from './periodic-sweep';

class CountingSweep extends PeriodicSweep<number> {
  passes = 0;

  async sweep(): Promise<number> {
    return ++this.passes;
  }
}

describe('PeriodicSweep', () => {
  it('when started, then it sweeps every interval under its name, and after stop it sweeps no more', async () => {
    const sweep = new CountingSweep('counting', 5);
    expect(sweep.name).toBe('counting');
    await sweep.start();
    await new Promise((r) => setTimeout(r, 60));
    await sweep.stop();
    const passes = sweep.passes;
    expect(passes).toBeGreaterThan(2);
    await new Promise((r) => setTimeout(r, 30));
    expect(sweep.passes).toBe(passes);
  });

  it('when never started, then a pass still runs by hand', async () => {
    expect(await new CountingSweep('by-hand', 1_000).sweep()).toBe(1);
  });
});
