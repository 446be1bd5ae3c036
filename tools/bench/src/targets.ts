/**
 * Issue 14's targets, as ratios of figures measured in one `npm run bench` run: printed (a table) and
 * written to reports/bench.json, never asserted in tests.
 */

/** The figures of one run the targets are computed from. */
export interface TargetFigures {
  /** REST uniform at c=64: created orders per second, the box's CPU per order, the requests' p50. */
  uniform: { ordersPerSecond: number; cpuMsPerOrder: number; p50Ms: number };
  /** The bare order transaction (order + items + outbox, one statement each) at c=64. */
  bareTransaction: { perSecond: number; cpuMsPerOperation: number };
  /** REST flash sale at c=256; `noOversell` is invariant 1 of both flash scenarios. */
  flash256: { ordersPerSecond: number; p99Ms: number };
  noOversell: boolean;
  /** The raw one-row conditional UPDATE at c=64 (throughput) and c=256 (p99). */
  rawUpdate64: { perSecond: number };
  rawUpdate256: { p99Ms: number };
  /**
   * Inventory's hot product at c=64 from bench-inventory, in the mode that drives it as order-command does
   * (`batched-calls`), or the mode used instead (`batched`: one call per Reserve); absent when not measured.
   */
  inventoryHot64?: { mode: string; perSecond: number; fromEarlierRun?: boolean };
  /** Read-side lag (event to projection) p99 over every order of the run. */
  readLagP99Ms: number;
}

export interface TargetResult {
  /** What the target asks, as the issue words it. */
  target: string;
  /** The measured ratio (what is compared with the goal), or undefined when not measured. */
  ratio: number | undefined;
  /** The ratio and the two figures it is made of, for a person. */
  figure: string;
  /** Met, short, or undefined: printed only (no goal), or not measured. */
  met: boolean | undefined;
  note?: string;
}

/** The mode of bench-inventory that drives the hot product as order-command does (batched calls). */
export const DRIVEN_AS_ORDER_COMMAND = 'batched-calls';

const perSecond = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`;
const milliseconds = (value: number) => `${value.toFixed(1)} ms`;
const times = (ratio: number) => `${ratio.toFixed(2)}x`;
/** A ratio of two measurements; undefined when the denominator was not measured (zero). */
const over = (a: number, b: number) => (b > 0 ? a / b : undefined);

function target(name: string, ratio: number | undefined, figure: (r: number) => string, goal?: (r: number) => boolean, note?: string): TargetResult {
  return {
    target: name,
    ratio,
    figure: ratio === undefined ? 'not measured' : figure(ratio),
    met: ratio === undefined || !goal ? undefined : goal(ratio),
    ...(note ? { note } : {}),
  };
}

export function issueTargets(f: TargetFigures): TargetResult[] {
  const inventory = f.inventoryHot64;
  const inventoryNote = !inventory
    ? 'bench-inventory not run (--skip-grpc and no reports/bench-inventory.json)'
    : [
        inventory.mode === DRIVEN_AS_ORDER_COMMAND ? '' : `mode ${DRIVEN_AS_ORDER_COMMAND} not measured: ${inventory.mode} (one call per Reserve) instead`,
        inventory.fromEarlierRun ? 'from an earlier bench-inventory run (--skip-grpc)' : '',
      ]
        .filter(Boolean)
        .join('; ');
  return [
    target(
      'uniform REST orders/s >= 40% of the bare order transaction',
      over(f.uniform.ordersPerSecond, f.bareTransaction.perSecond),
      (r) => `${(r * 100).toFixed(0)}% (${perSecond(f.uniform.ordersPerSecond)} vs ${perSecond(f.bareTransaction.perSecond)})`,
      (r) => r >= 0.4,
    ),
    target(
      "box CPU per uniform REST order <= 2.5x the bare transaction's",
      over(f.uniform.cpuMsPerOrder, f.bareTransaction.cpuMsPerOperation),
      (r) => `${times(r)} (${milliseconds(f.uniform.cpuMsPerOrder)} vs ${milliseconds(f.bareTransaction.cpuMsPerOperation)})`,
      (r) => r <= 2.5,
    ),
    target(
      'hot Reserve driven as order-command drives it, c=64 >= 1.0x raw one-row UPDATE',
      inventory ? over(inventory.perSecond, f.rawUpdate64.perSecond) : undefined,
      (r) => `${times(r)} (${perSecond(inventory!.perSecond)} vs ${perSecond(f.rawUpdate64.perSecond)})`,
      (r) => r >= 1,
      inventoryNote || undefined,
    ),
    target(
      'flash sale c=256 orders/s >= uniform c=64 orders/s',
      over(f.flash256.ordersPerSecond, f.uniform.ordersPerSecond),
      (r) => `${times(r)} (${perSecond(f.flash256.ordersPerSecond)} vs ${perSecond(f.uniform.ordersPerSecond)})`,
      (r) => r >= 1,
    ),
    { target: 'flash sale: zero oversell', ratio: undefined, figure: f.noOversell ? 'zero' : 'VIOLATED', met: f.noOversell },
    target(
      "flash sale p99 at c=256, as a multiple of the raw UPDATE's p99 at c=256",
      over(f.flash256.p99Ms, f.rawUpdate256.p99Ms),
      (r) => `${times(r)} (${milliseconds(f.flash256.p99Ms)} vs ${milliseconds(f.rawUpdate256.p99Ms)})`,
    ),
    target(
      'read-side lag p99 <= the REST p50 (uniform c=64, its orders)',
      over(f.readLagP99Ms, f.uniform.p50Ms),
      (r) => `${times(r)} (${milliseconds(f.readLagP99Ms)} vs ${milliseconds(f.uniform.p50Ms)})`,
      (r) => r <= 1,
    ),
  ];
}

const status = (met: boolean | undefined, ratio: number | undefined) => (met === true ? 'met' : met === false ? 'SHORT' : ratio === undefined ? '-' : 'shown');

/** The targets as a table: status, target, figure (ratio, then the two figures), and a note where one applies. */
export function formatTargets(targets: TargetResult[]): string {
  const rows = [['', 'target', 'figure'], ...targets.map((t) => [status(t.met, t.ratio), t.target, t.figure + (t.note ? `  (${t.note})` : '')])];
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => `${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padEnd(widths[1]!)}  ${row[2]}`.trimEnd()).join('\n');
}
