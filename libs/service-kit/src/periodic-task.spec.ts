import { PeriodicTask } from './periodic-task';

describe('PeriodicTask', () => {
  it('when a run is slower than the interval, then runs never overlap, and stop waits for the one in progress', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let finished = 0;
    const task = new PeriodicTask('test', 5, async () => {
      active++;
      runs++;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setTimeout(r, 30));
      active--;
      finished++;
    });
    await task.start();
    await new Promise((r) => setTimeout(r, 120));
    await task.stop();
    expect(maxActive).toBe(1);
    expect(runs).toBeGreaterThan(1);
    expect(finished).toBe(runs);
  });

  it('when the work throws, then the task keeps running', async () => {
    let runs = 0;
    const task = new PeriodicTask('failing', 5, async () => {
      runs++;
      throw new Error('boom');
    });
    await task.start();
    await new Promise((r) => setTimeout(r, 60));
    await task.stop();
    expect(runs).toBeGreaterThan(2);
  });
});
