import type { PhaseRecord } from './move-record';

const thousands = (n: number) => Math.round(n).toLocaleString('en-US');

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} min`;
}

/** "[########------] 1,234/5,000 rows 24.7%  820 rows/s  ETA 4.6 s" */
export function progressLine(copied: number, total: number, rowsPerSecond: number, width = 30): string {
  const fraction = total > 0 ? Math.min(1, copied / total) : 1;
  const filled = Math.round(fraction * width);
  const eta = rowsPerSecond > 0 && total > copied ? formatDuration(((total - copied) / rowsPerSecond) * 1000) : copied >= total ? '0 s' : '?';
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  return `${bar} ${thousands(copied)}/${thousands(total)} rows ${(fraction * 100).toFixed(1)}%  ${thousands(rowsPerSecond)} rows/s  ETA ${eta}`;
}

/** Columns padded to their widest cell. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The closing table of a move: one line per phase run (a resumed or retried phase shows twice). */
export function formatPhases(phases: PhaseRecord[]): string {
  return formatTable(
    ['phase', 'time', 'rows', 'changes applied', 'fenced ms', 'verify'],
    phases
      .filter((p) => p.endedAt !== undefined)
      .map((p) => [
        p.phase,
        formatDuration((p.endedAt as number) - p.startedAt),
        p.rows === undefined ? '' : thousands(p.rows),
        p.changes === undefined ? '' : thousands(p.changes),
        p.fencedMs === undefined ? '' : String(p.fencedMs),
        p.verify ?? '',
      ]),
  );
}

/** "60s", "1s", "500ms", "2m" or a bare number of seconds, in milliseconds. */
export function parseDuration(text: string, name: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text);
  if (!match) throw new Error(`${name} must be a duration such as 60s, 500ms or 2m, got "${text}"`);
  const value = Number(match[1]);
  return Math.round(match[2] === 'ms' ? value : match[2] === 'm' ? value * 60_000 : value * 1000);
}
