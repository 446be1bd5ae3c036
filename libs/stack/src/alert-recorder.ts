import type { PrometheusAlert } from './prometheus';

/** One alert's life, from first seen active to no longer listed. */
export interface AlertEpisode {
  alert: string;
  /** The alert's labels without alertname (job, instance, severity, ...). */
  labels: Record<string, string>;
  /** When it was first seen pending or firing. */
  activeAt: Date;
  /** When it was first seen firing; unset if it never got past pending. */
  firedAt?: Date;
  /** When it was first seen gone; unset while it is still active. */
  resolvedAt?: Date;
}

export interface AlertRecorder {
  /** Every episode so far, in the order they began. */
  episodes(): AlertEpisode[];
  /** Polls once more, stops polling, returns every episode. */
  stop(): Promise<AlertEpisode[]>;
}

const keyOf = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));

/**
 * Polls a Prometheus's active alerts every `everyMs` and records when each alert became active, fired
 * and resolved (for a chaos run's report: which alerts each fault set off, and whether they cleared).
 * A poll that fails (Prometheus busy) is skipped.
 */
export function recordAlerts(source: { alerts(): Promise<PrometheusAlert[]> }, everyMs = 500): AlertRecorder {
  const all: AlertEpisode[] = [];
  const open = new Map<string, AlertEpisode>();

  const poll = async () => {
    let active: PrometheusAlert[];
    try {
      active = await source.alerts();
    } catch {
      return;
    }
    const now = new Date();
    const seen = new Set<string>();
    for (const { labels, state } of active) {
      const key = keyOf(labels);
      seen.add(key);
      let episode = open.get(key);
      if (!episode) {
        const { alertname, ...rest } = labels;
        episode = { alert: alertname, labels: rest, activeAt: now };
        open.set(key, episode);
        all.push(episode);
      }
      if (state === 'firing') episode.firedAt ??= now;
    }
    for (const [key, episode] of open) {
      if (seen.has(key)) continue;
      episode.resolvedAt = now;
      open.delete(key);
    }
  };

  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await poll();
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();

  return {
    episodes: () => all.map((episode) => ({ ...episode })),
    async stop() {
      stopped = true;
      await loop;
      await poll();
      return all.map((episode) => ({ ...episode }));
    },
  };
}
