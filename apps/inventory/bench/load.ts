import { type BoxCpu, cpuMsPerOperation } from '@orderflow/stack';

/** A closed-loop load driver: `concurrency` workers call `op` back to back for `durationMs`. */
export interface LoadResult {
  name: string;
  ok: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export async function drive(name: string, concurrency: number, durationMs: number, op: (worker: number, i: number) => Promise<unknown>): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: unknown;
  const started = performance.now();
  const end = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = 0; performance.now() < end; i++) {
        const t0 = performance.now();
        try {
          await op(worker, i);
          latencies.push(performance.now() - t0);
        } catch (error) {
          errors++;
          firstError ??= error;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  if (errors > 0) console.warn(`${name}: ${errors} errors, first: ${firstError instanceof Error ? firstError.message : String(firstError)}`);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  return { name, ok: latencies.length, errors, seconds, perSecond: latencies.length / seconds, p50Ms: pct(50), p99Ms: pct(99), maxMs: latencies.at(-1) ?? 0 };
}

export function formatRow(r: LoadResult & { boxCpu?: BoxCpu }): string {
  const cpu = r.boxCpu ? `   box CPU ${cpuMsPerOperation(r.boxCpu, r.ok + r.errors).toFixed(2)} ms/call at ${(r.boxCpu.busyShare * 100).toFixed(0)}% busy` : '';
  const ms = (value: number) => value.toFixed(1).padStart(7);
  return `${r.name.padEnd(44)} ${r.perSecond.toFixed(0).padStart(8)}/s   p50 ${ms(r.p50Ms)} ms   p99 ${ms(r.p99Ms)} ms   errors ${r.errors}${cpu}`;
}
