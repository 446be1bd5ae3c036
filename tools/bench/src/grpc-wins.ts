/**
 * The arithmetic of `npm run bench:grpc-wins` (apps/inventory/bench/grpc-wins.bench.ts): each of issue 14's
 * cheap gRPC wins undone alone, in alternating rounds, compared with "all on" of the same round.
 */

/** One variant's line in one round. CPU is per completed call, in microseconds, of each process. */
export interface WinMeasurement {
  variant: string;
  round: number;
  calls: number;
  errors: number;
  callsPerSecond: number;
  clientCpuUsPerCall: number;
  serverCpuUsPerCall: number;
}

/** A variant over every round: medians, and the medians of its ratios to the baseline of the same round. */
export interface WinSummary {
  variant: string;
  rounds: number;
  errors: number;
  callsPerSecond: number;
  clientCpuUsPerCall: number;
  serverCpuUsPerCall: number;
  /** Both processes' CPU per call. */
  cpuUsPerCall: number;
  /** calls/s over the baseline's in the same round (median over rounds); 1 for the baseline itself. */
  throughputRatio: number;
  /** Both processes' CPU per call over the baseline's in the same round (median over rounds). */
  cpuRatio: number;
}

/** The median (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The order of the variants in a round (1-based): as given in odd rounds, reversed in even ones, so drift over the run falls on both sides. */
export function roundOrder<T>(variants: readonly T[], round: number): T[] {
  return round % 2 === 1 ? [...variants] : [...variants].reverse();
}

/** CPU microseconds per call from CPU seconds spent over `calls` calls (0 calls: the CPU itself, per one). */
export function cpuUsPerCall(cpuSeconds: number, calls: number): number {
  return (cpuSeconds * 1e6) / Math.max(1, calls);
}

/** Per variant, in `variants` order: medians over the rounds, and ratios to `baseline` taken within each round. */
export function summarizeWins(measurements: readonly WinMeasurement[], variants: readonly string[], baseline: string): WinSummary[] {
  const baselineOf = new Map(measurements.filter((m) => m.variant === baseline).map((m) => [m.round, m]));
  const both = (m: WinMeasurement) => m.clientCpuUsPerCall + m.serverCpuUsPerCall;
  return variants.map((variant) => {
    const lines = measurements.filter((m) => m.variant === variant);
    const paired = lines.filter((m) => baselineOf.has(m.round));
    return {
      variant,
      rounds: lines.length,
      errors: lines.reduce((sum, m) => sum + m.errors, 0),
      callsPerSecond: median(lines.map((m) => m.callsPerSecond)),
      clientCpuUsPerCall: median(lines.map((m) => m.clientCpuUsPerCall)),
      serverCpuUsPerCall: median(lines.map((m) => m.serverCpuUsPerCall)),
      cpuUsPerCall: median(lines.map(both)),
      throughputRatio: median(paired.map((m) => m.callsPerSecond / baselineOf.get(m.round)!.callsPerSecond)),
      cpuRatio: median(paired.map((m) => both(m) / both(baselineOf.get(m.round)!))),
    };
  });
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const times = (value: number) => (Number.isFinite(value) ? `${value.toFixed(3)}x` : '-');
const count = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-');

/** A table of the summaries: one row per variant, columns aligned, ratios as multiples of the baseline. */
export function formatWinsTable(summaries: readonly WinSummary[]): string {
  const header = ['variant', 'calls/s', 'client µs/call', 'server µs/call', 'both µs/call', 'calls/s vs all on', 'CPU/call vs all on', 'errors'];
  const rows = summaries.map((s) => [
    s.variant,
    count(s.callsPerSecond),
    fixed(s.clientCpuUsPerCall, 1),
    fixed(s.serverCpuUsPerCall, 1),
    fixed(s.cpuUsPerCall, 1),
    times(s.throughputRatio),
    times(s.cpuRatio),
    String(s.errors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  // The variant column reads left-aligned, the figures right-aligned.
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** CPU seconds (user + system, every thread) of a process from the text of its /proc/<pid>/stat (clock ticks of 1/100 s). */
export function processCpuSeconds(procStat: string): number {
  // The command name (field 2) may hold spaces and parentheses: fields are counted from the last ')'.
  const fields = procStat.slice(procStat.lastIndexOf(')') + 2).split(' ');
  // Field 3 (state) is fields[0]: utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Established TCP connections to `port` in /proc/net/tcp or tcp6 text, counted once each (their client side). */
export function connectionsTo(procNetTcp: string, port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return procNetTcp
    .split('\n')
    .slice(1)
    .map((row) => row.trim().split(/\s+/))
    .filter((cols) => cols.length > 3 && cols[2]!.endsWith(`:${hexPort}`) && cols[3] === '01').length;
}
