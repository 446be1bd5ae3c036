import fs from 'node:fs';

/** USER_HZ on Linux: /proc/stat counts in hundredths of a second. */
const TICKS_PER_SECOND = 100;

/** Whole-box CPU ticks from /proc/stat: busy (everything but idle and iowait; steal included) and all. */
export function boxTicks(): { busy: number; total: number } {
  const [, ...fields] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const values = fields.map(Number);
  const total = values.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - values[3]! - values[4]!, total };
}

export interface BoxCpu {
  /** CPU seconds the whole box spent busy while the work ran (every process, kernel included). */
  busySeconds: number;
  /** Busy share of the box's capacity over that time, 0..1: near 1 means CPU was the limit. */
  busyShare: number;
}

/** Milliseconds of the box's CPU per operation, for `operations` done while `boxCpu` was measured. */
export function cpuMsPerOperation(boxCpu: BoxCpu, operations: number): number {
  return (boxCpu.busySeconds * 1000) / Math.max(1, operations);
}

/** The box's CPU between two boxTicks() readings. */
function boxCpuBetween(before: { busy: number; total: number }, after: { busy: number; total: number }): BoxCpu {
  const busy = after.busy - before.busy;
  const total = after.total - before.total;
  return { busySeconds: busy / TICKS_PER_SECOND, busyShare: total > 0 ? busy / total : 0 };
}

/** Runs `work` and says what the whole box spent on CPU meanwhile; zeros where /proc/stat is missing. */
export async function withBoxCpu<T>(work: () => Promise<T>): Promise<T & { boxCpu: BoxCpu }> {
  const read = () => {
    try {
      return boxTicks();
    } catch {
      return undefined;
    }
  };
  const before = read();
  const result = await work();
  const after = read();
  return { ...result, boxCpu: before && after ? boxCpuBetween(before, after) : { busySeconds: 0, busyShare: 0 } };
}
