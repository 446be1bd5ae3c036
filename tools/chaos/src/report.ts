import type { CheckResult } from './checks';
import type { WindowStats } from './ledger';

/** Plain-text and Markdown renderings of a chaos run's figures. Pure. */

const seconds = (s: number | undefined) => (s === undefined ? '-' : s.toFixed(1));

const COLUMNS = [
  'fault',
  'requests',
  '2xx',
  '4xx',
  '5xx',
  'transport errors',
  's to first 201',
  's to recovered',
  'unknown before retries',
  'unknown after',
] as const;

function rows(stats: readonly WindowStats[]): string[][] {
  return stats.map((s) => [
    s.fault,
    String(s.requests),
    String(s.ok2xx),
    String(s.client4xx),
    String(s.server5xx),
    String(s.transportErrors),
    seconds(s.firstCreatedAfterFaultS),
    seconds(s.recoveredAfterS),
    String(s.unknownBefore),
    s.unknownAfter === undefined ? '-' : String(s.unknownAfter),
  ]);
}

/** A fixed-width table: the first column left-aligned, numbers right-aligned. */
export function formatTable(stats: readonly WindowStats[]): string {
  const all = [[...COLUMNS], ...rows(stats)];
  const widths = COLUMNS.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all
    .map((r) =>
      r
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatMarkdownTable(stats: readonly WindowStats[]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line([...COLUMNS]), line(COLUMNS.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows(stats).map(line)].join('\n');
}

/** The alerts of each fault window (with --prometheus), one line per fault. */
export function formatAlerts(stats: readonly WindowStats[]): string {
  return stats.map((s) => `${s.fault.padEnd(20)} ${s.alerts && s.alerts.length > 0 ? s.alerts.join('; ') : 'none'}`).join('\n');
}

/** What the 5xx and transport errors of each window were. */
export function formatFailures(stats: readonly WindowStats[]): string {
  const kinds = (s: WindowStats) =>
    Object.entries(s.failures ?? {})
      .sort(([, a], [, b]) => b - a)
      .map(([what, n]) => `${n} x ${what}`);
  return stats.map((s) => `${s.fault.padEnd(20)} ${kinds(s).join(', ') || 'none'}`).join('\n');
}

export function formatCheck(check: CheckResult): string {
  return `${check.informational ? 'INFO' : check.pass ? 'PASS' : 'FAIL'}  ${check.name}: ${check.detail}`;
}
