import type { Component, Logger } from '@orderflow/service-kit';
import { Redis } from 'ioredis';

/**
 * One client per independent Redis master (Redlock needs a majority of them). They fail fast while a
 * master is away (no offline queue, one retry): a lock that cannot be had is refused, not waited for.
 */
export function createRedisMasters(masters: { host: string; port: number }[], logger: Logger): { clients: Redis[]; component: Component } {
  const clients = masters.map(
    ({ host, port }) => new Redis({ host, port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 }),
  );
  for (const client of clients) client.on('error', (err) => logger.debug({ err }, 'redis connection error'));
  const component: Component = {
    name: 'redis',
    start: async () => {
      await Promise.all(clients.map((c) => c.connect()));
    },
    stop: async () => {
      // quit() waits for a reply; a client that is not connected just stops reconnecting.
      await Promise.all(
        clients.map((c) =>
          c.status === 'ready'
            ? c.quit().then(
                () => undefined,
                () => c.disconnect(),
              )
            : c.disconnect(),
        ),
      );
    },
  };
  return { clients, component };
}
