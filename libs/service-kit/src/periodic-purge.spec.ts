import type { Logger } from './logger';
import { PeriodicPurge } from './periodic-purge';

function recordingLogger() {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => lines.push({ level, fields, msg });
  return { lines, logger: { info: at('info'), warn: at('warn') } as unknown as Logger };
}

describe('PeriodicPurge', () => {
  it('when a pass deletes rows, then it is logged with its counts; when it deletes none, then nothing is logged', async () => {
    const { lines, logger } = recordingLogger();
    let deleted = 3;
    const purge = new PeriodicPurge(
      'test-purge',
      async () => ({ deleted, batches: 1 }),
      (r) => r.deleted,
      logger,
      60_000,
    );
    await expect(purge.purge()).resolves.toEqual({ deleted: 3, batches: 1 });
    deleted = 0;
    await purge.purge();
    expect(lines).toEqual([{ level: 'info', fields: { purge: 'test-purge', deleted: 3, batches: 1 }, msg: 'purged old rows' }]);
  });

  it('when a pass fails, then it is logged and the next pass runs as usual', async () => {
    const { lines, logger } = recordingLogger();
    let fail = true;
    const purge = new PeriodicPurge(
      'test-purge',
      async () => {
        if (fail) throw new Error('shard down');
        return { deleted: 1, batches: 1 };
      },
      (r) => r.deleted,
      logger,
      60_000,
    );
    await expect(purge.purge()).resolves.toBeUndefined();
    fail = false;
    await expect(purge.purge()).resolves.toEqual({ deleted: 1, batches: 1 });
    expect(lines.map((l) => l.msg)).toEqual(['purge failed; will try again', 'purged old rows']);
  });

  it('when stopped during a pass, then the pass is told to stop after its current batch', async () => {
    const { logger } = recordingLogger();
    let batches = 0;
    const purge = new PeriodicPurge(
      'test-purge',
      async (keepGoing) => {
        while (keepGoing() && batches < 1_000) {
          batches++;
          await new Promise((r) => setTimeout(r, 5));
        }
        return { deleted: batches, batches };
      },
      (r) => r.deleted,
      logger,
      1,
    );
    await purge.start();
    await new Promise((r) => setTimeout(r, 40));
    await purge.stop();
    const atStop = batches;
    await new Promise((r) => setTimeout(r, 30));
    expect(atStop).toBeGreaterThan(0);
    expect(atStop).toBeLessThan(1_000);
    expect(batches).toBe(atStop);
  });
});
