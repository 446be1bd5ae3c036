import type { ProjectionLag } from './model';
import type { Clock, ConsumerProgress } from './ports';
import type { ProjectionStats } from './projection';

/**
 * How far the read side is behind the stream: unapplied events (pending plus delivered but not yet
 * acknowledged) and the age of the oldest of them. When the stream cannot tell that age, the time
 * since the last applied event happened is the estimate.
 */
export function createGetProjectionLag({ progress, stats, clock }: { progress: ConsumerProgress; stats: ProjectionStats; clock: Clock }) {
  return async function getProjectionLag(): Promise<ProjectionLag> {
    const { eventsBehind, oldestUnappliedAt } = await progress.read();
    const now = clock.now().getTime();
    const since = eventsBehind === 0 ? undefined : (oldestUnappliedAt ?? stats.lastAppliedOccurredAt);
    return {
      eventsBehind,
      secondsBehind: since ? Math.max(0, now - since.getTime()) / 1000 : 0,
      eventsApplied: stats.eventsApplied,
      eventsDeadLettered: stats.eventsDeadLettered,
      lastAppliedAt: stats.lastAppliedAt,
    };
  };
}

export type GetProjectionLag = ReturnType<typeof createGetProjectionLag>;
