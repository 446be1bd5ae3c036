/**
 * Which alerts each fault set off (a chaos run with --prometheus): an alert episode belongs to the fault
 * window in which it became active; its times are given from that window's fault. Pure.
 */

/** The shape of libs/stack's AlertEpisode that matters here. */
export interface Episode {
  alert: string;
  labels: Record<string, string>;
  activeAt: Date;
  firedAt?: Date;
  resolvedAt?: Date;
}

export interface WindowBounds {
  startedAt: number;
  faultAt: number;
  endedAt: number;
}

/**
 * Episodes active before the first window (left over from start-up) are not any fault's. `names` turns
 * an instance (host:port) into the process's name (the relay and the API are both order-command jobs).
 */
export function alertsOfWindow(window: WindowBounds, episodes: readonly Episode[], names: Record<string, string> = {}): string[] {
  const rel = (d: Date) => {
    const s = Math.round((d.getTime() - window.faultAt) / 1000);
    return `${s < 0 ? '-' : '+'}${Math.abs(s)} s`;
  };
  return episodes
    .filter((e) => e.activeAt.getTime() >= window.startedAt && e.activeAt.getTime() < window.endedAt)
    .map((e) => {
      const instance = e.labels.instance;
      const where = (instance && names[instance]) ?? instance ?? e.labels.job ?? e.labels.service;
      const name = where ? `${e.alert}{${where}}` : e.alert;
      const fired = e.firedAt ? `fired ${rel(e.firedAt)}` : 'pending only';
      const resolved = e.resolvedAt ? `resolved ${rel(e.resolvedAt)}` : 'still active at the end';
      return `${name} ${fired}, ${resolved}`;
    });
}
