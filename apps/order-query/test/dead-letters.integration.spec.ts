import { execFile } from 'node:child_process';
import { orderEventSubject } from '@orderflow/messaging';
import { orderV1 } from '@orderflow/proto';
import { workspaceRoot } from '@orderflow/stack';
import type { OrderQueryConfig } from '../src/config';
import { DeadLetterQueue } from '../src/infrastructure/nats/dead-letter.queue';
import { actor, caughtUp, orderHistory, orderQueryRun, waitFor, withProject } from './support';

/** `npm run dead-letters -- <args>` from the workspace root, with the run's NATS settings as order-query has them. */
function deadLettersCommand(config: OrderQueryConfig, args: string[]): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    NATS_SERVERS: config.nats.servers,
    ORDERS_STREAM: config.nats.stream,
    ORDER_EVENT_SUBJECT_PREFIX: config.nats.subjectPrefix,
    DEAD_LETTER_SUBJECT: config.nats.deadLetterSubject,
    DEAD_LETTER_STREAM: config.nats.deadLetterStream,
  };
  return new Promise((resolve) =>
    execFile('npm', ['run', '-s', 'dead-letters', '--', ...args], { cwd: workspaceRoot(), env, timeout: 100_000 }, (error, stdout, stderr) => {
      const failure = error as (Error & { code?: number | string; signal?: string }) | null;
      // A command killed by the timeout has a signal and no exit code: say so rather than pass for a refusal.
      resolve({ code: failure ? (failure.signal ?? failure.code ?? 'unknown') : 0, stdout, stderr });
    }),
  );
}

describe('dead letters: listed, and replayed once their cause is fixed (real MariaDB x2 and NATS, MAX_DELIVER 3)', () => {
  let queue: DeadLetterQueue;
  /** Orders whose read shard "is down": every projection of them fails as a lost connection would. */
  const unreachable = new Set<string>();
  const down = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  const run = orderQueryRun({ MAX_DELIVER: '3', REDELIVERY_DELAY_MS: '20' }, () => ({
    decorateStore: (store) =>
      withProject(store, async (events, decide, at, attempts) => {
        if (events.some((event) => unreachable.has(event.orderId))) throw down();
        return store.project(events, decide, at, attempts);
      }),
  }));

  beforeAll(() => {
    queue = new DeadLetterQueue(run.feed.nc, { deadLetterStream: run.config.nats.deadLetterStream, ordersStream: run.config.nats.stream });
  });

  it('when a read shard outage outlasts every delivery, then the command lists the events; once the shard is back, replay --all projects them and empties the dead-letter stream', async () => {
    const [placed, paid] = orderHistory('wren', ['placed', 'paid']);
    unreachable.add(placed!.orderId);
    await run.feed.publish(placed!);
    await run.feed.publish(paid!);
    const letters = await waitFor(async () => {
      const listed = await queue.list();
      return listed.length === 2 && listed;
    }, 'two dead letters');
    expect(letters.map((l) => [l.orderId, l.eventType, l.version, l.deliveries]).sort()).toEqual([
      [placed!.orderId, 'paid', 2, 3],
      [placed!.orderId, 'placed', 1, 3],
    ]);
    expect(letters.every((l) => l.reason.includes('failed on all 3 deliveries, last: connect ECONNREFUSED'))).toBe(true);
    expect(letters.map((l) => l.originalSubject).sort()).toEqual([
      orderEventSubject('paid', run.config.nats.subjectPrefix),
      orderEventSubject('placed', run.config.nats.subjectPrefix),
    ]);

    const listed = await deadLettersCommand(run.config, ['list']);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    const lines = listed.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^id\s+order\s+event\s+version\s+deliveries\s+when\s+reason$/);
    expect(
      lines
        .slice(1)
        .map((line) => line.split(/\s+/).slice(0, 5))
        .sort(),
    ).toEqual(letters.map((l) => [String(l.id), placed!.orderId, l.eventType!, String(l.version), '3']).sort());

    // Still down: the order is not on the read side.
    await expect(run.oq.api.getOrder({ orderId: placed!.orderId, actor: actor('wren') })).rejects.toMatchObject({ code: 5 });

    unreachable.clear(); // the cause is fixed
    const replayed = await deadLettersCommand(run.config, ['replay', '--all']);
    expect(replayed).toMatchObject({ code: 0 });
    expect(replayed.stdout).toContain(`dead letter ${letters[0]!.id}: replayed to ${run.config.nats.stream}`);

    const view = await waitFor(async () => {
      const found = await run.oq.api.getOrder({ orderId: placed!.orderId, actor: actor('wren') }).catch(() => undefined);
      return found?.order?.version === 2 && found.order;
    }, 'the replayed order at version 2');
    expect(view.status).toBe(orderV1.OrderStatus.ORDER_STATUS_PAID);
    expect(await queue.list()).toEqual([]);
    expect((await deadLettersCommand(run.config, ['list'])).stdout.trim()).toBe('no dead letters');
    expect(await caughtUp(run.oq.api)).toMatchObject({ eventsBehind: 0 });
  });

  it('when an event is replayed twice (the removal was lost), then the second copy is dropped by the stream and the view stays at its version', async () => {
    const [placed] = orderHistory('yara', ['placed']);
    unreachable.add(placed!.orderId);
    await run.feed.publish(placed!);
    const [letter] = await waitFor(async () => {
      const listed = (await queue.list()).filter((l) => l.orderId === placed!.orderId);
      return listed.length === 1 && listed;
    }, 'one dead letter');
    unreachable.clear();
    // Publish the replay as replay() would, without removing the dead letter: as if the process died there.
    const first = await run.feed.nc
      .jetstream()
      .publish(letter!.originalSubject, orderV1.OrderEvent.encode(placed!).finish(), { msgID: `replay:${run.config.nats.deadLetterStream}:${letter!.id}` });
    const [result] = await queue.replay([letter!.id]);
    expect(result).toEqual({ id: letter!.id, sequence: first.seq });
    expect((await queue.list()).filter((l) => l.orderId === placed!.orderId)).toEqual([]);
    await waitFor(
      async () => (await run.oq.api.getOrder({ orderId: placed!.orderId, actor: actor('yara') }).catch(() => undefined))?.order?.version === 1,
      'the replayed order',
    );
    expect(await caughtUp(run.oq.api)).toMatchObject({ eventsBehind: 0 });
  });

  it('when a dead letter is garbage, then it is listed with what its headers say, and an unknown id is refused by name with a failing exit code', async () => {
    const subject = orderEventSubject('placed', run.config.nats.subjectPrefix);
    await run.feed.publishRaw(subject, new Uint8Array([0xff, 0x01, 0x02]));
    const [letter] = await waitFor(async () => {
      const listed = (await queue.list()).filter((l) => l.orderId === undefined);
      return listed.length === 1 && listed;
    }, 'the garbage dead letter');
    expect(letter).toMatchObject({ originalSubject: subject, eventType: 'placed' });
    expect([letter!.orderId, letter!.version]).toEqual([undefined, undefined]);
    expect(letter!.reason).toContain('not an orderflow.order.v1.OrderEvent');

    const refused = await deadLettersCommand(run.config, ['replay', '--id', '999999']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('dead letter 999999: NOT replayed: no such dead letter');
    const usage = await deadLettersCommand(run.config, ['replay']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage: npm run dead-letters');
  });
});
