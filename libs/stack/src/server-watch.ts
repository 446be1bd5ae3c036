import type { Server } from './servers';
import type { Supervisor } from './supervisor';

export interface ServerWatch {
  /** Stops polling and restarting (call it before stopping the servers). */
  stop(): Promise<void>;
}

/**
 * Polls the servers' pid files (they run detached, or daemonize, so there is no exit event to wait
 * for). A dead one (pid file left, process gone) is restarted by the supervisor with its own command:
 * the same data folder and port. One stopped on purpose (pid file removed, as `npm run down` does) is
 * reported once and left alone.
 */
export function watchServers(servers: Server[], supervisor: Supervisor, intervalMs = 1_000): ServerWatch {
  const reported = new Set<string>();
  const poll = () => {
    for (const server of servers) {
      if (supervisor.isStopped || supervisor.restarting(server.name)) continue;
      const liveness = server.liveness();
      if (liveness.state === 'dead') {
        supervisor.crashed(server.name, `pid ${liveness.pid} is gone`, async () => {
          await server.start();
        });
      } else if (liveness.state === 'stopped' && !reported.has(server.name)) {
        reported.add(server.name);
        supervisor.stoppedOutside(server.name, `supervisor: ${server.name} was stopped on purpose (its pid file is gone, as after \`npm run down\`)`);
      } else if (liveness.state === 'running') {
        reported.delete(server.name);
      }
    }
  };
  const timer = setInterval(poll, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await supervisor.stop();
    },
  };
}
