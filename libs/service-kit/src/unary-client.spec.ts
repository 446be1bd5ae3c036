import { type CallOptions, type Client, type ClientUnaryCall, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { runInCallContext } from './request-context';
import { unaryCaller } from './unary-client';

type Sent = { request: { n: number }; requestId: string | undefined; deadline: Date };

/** A stand-in for a generated client: records each call, answers with the scripted outcomes in turn. */
function fakeClient(outcomes: ('ok' | 'cut' | 'refused')[], ready = true) {
  const sent: Sent[] = [];
  const client = {
    sent,
    echo(
      request: { n: number },
      metadata: Metadata,
      options: Partial<CallOptions>,
      callback: (error: ServiceError | null, response: { n: number }) => void,
    ): ClientUnaryCall {
      sent.push({ request, requestId: metadata.get('x-request-id')[0] as string | undefined, deadline: options.deadline as Date });
      const outcome = outcomes.shift() ?? 'ok';
      const error = (code: status) => Object.assign(new Error(outcome), { code, details: outcome, metadata: new Metadata() }) as ServiceError;
      const failure = outcome === 'cut' ? error(status.UNAVAILABLE) : error(status.FAILED_PRECONDITION);
      setImmediate(() => (outcome === 'ok' ? callback(null, { n: request.n + 1 }) : callback(failure, { n: 0 })));
      return {} as ClientUnaryCall;
    },
    waitForReady(_deadline: Date, callback: (error?: Error) => void) {
      setImmediate(() => callback(ready ? undefined : new Error('not ready')));
    },
    close() {},
  };
  return client as typeof client & Client;
}

const isCutOff = (error: unknown) => (error as ServiceError).code === status.UNAVAILABLE;

describe('unaryCaller', () => {
  it('when a call is made, then it answers with the typed response, under a deadline from now', async () => {
    const client = fakeClient(['ok']);
    const echo = unaryCaller(client, { deadlineMs: 3_000, isCutOff })('echo', { repeatIfCutOff: true });
    const before = Date.now();
    expect(await echo({ n: 1 })).toEqual({ n: 2 });
    expect(client.sent[0]!.deadline.getTime() - before).toBeGreaterThanOrEqual(3_000);
    expect(client.sent[0]!.deadline.getTime() - before).toBeLessThan(3_500);
    // Typed by the generated method: a request of another shape, or a method that is no unary call, does not compile.
    // @ts-expect-error n is a number
    void (() => echo({ n: 'one' }));
    // @ts-expect-error close is not a unary call
    void (() => unaryCaller(client, { deadlineMs: 1, isCutOff })('close', { repeatIfCutOff: false }));
  });

  it('when made while a call is served, then it passes that call’s request id on and ends by its deadline; an id given explicitly wins', async () => {
    const client = fakeClient(['ok', 'ok', 'ok']);
    const echo = unaryCaller(client, { deadlineMs: 60_000, isCutOff })('echo', { repeatIfCutOff: false });
    const served = new Date(Date.now() + 2_000);
    await runInCallContext({ deadline: served, requestId: 'req-7' }, () => echo({ n: 1 }));
    await echo({ n: 1 }, 'gateway-id');
    await echo({ n: 1 });
    expect(client.sent.map((s) => s.requestId)).toEqual(['req-7', 'gateway-id', undefined]);
    expect(client.sent[0]!.deadline).toEqual(served);
  });

  it('when a repeatable call is cut off, then it is made once more within the same deadline; a refusal is not repeated', async () => {
    const client = fakeClient(['cut', 'ok', 'refused']);
    const echo = unaryCaller(client, { deadlineMs: 3_000, isCutOff })('echo', { repeatIfCutOff: true });
    expect(await echo({ n: 5 }, 'r')).toEqual({ n: 6 });
    await expect(echo({ n: 5 })).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
    expect(client.sent).toHaveLength(3);
    expect(client.sent[1]).toEqual(client.sent[0]);
  });

  it('when a call that is not safe to repeat is cut off, then the cut-off stands', async () => {
    const client = fakeClient(['cut', 'ok']);
    const echo = unaryCaller(client, { deadlineMs: 3_000, isCutOff })('echo', { repeatIfCutOff: false, deadlineMs: 500 });
    await expect(echo({ n: 1 })).rejects.toMatchObject({ code: status.UNAVAILABLE });
    expect(client.sent).toHaveLength(1);
  });
});
