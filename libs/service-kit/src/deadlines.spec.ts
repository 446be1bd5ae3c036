import { credentials, makeGenericClientConstructor, Metadata, Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { ConfigError } from './config';
import { cappedDeadline, cappedWaitMs, checkTimeoutChain, currentDeadline, runWithDeadline } from './deadlines';
import { unaryHandlers } from './grpc-unary';
import { jsonUnaryMethod } from '../test/json-method';

const definition: ServiceDefinition = { whatDeadline: jsonUnaryMethod('/test.Deadlines/WhatDeadline') };

describe('deadlines', () => {
  it('when a gRPC call arrives with a deadline, then its handler (and everything it awaits) sees that deadline', async () => {
    const server = new Server();
    const unary = unaryHandlers(() => ({}));
    server.addService(definition, {
      whatDeadline: unary('WhatDeadline', async () => {
        await new Promise((r) => setTimeout(r, 5));
        return { deadline: currentDeadline()?.getTime() ?? null, capped: cappedDeadline(60_000).getTime() };
      }),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    const Client = makeGenericClientConstructor(definition, 'Deadlines');
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as {
      whatDeadline: (
        req: object,
        md: Metadata,
        options: { deadline: Date },
        cb: (e: Error | null, res: { deadline: number | null; capped: number }) => void,
      ) => void;
      close(): void;
    };
    try {
      const deadline = new Date(Date.now() + 4_000);
      const answer = await new Promise<{ deadline: number | null; capped: number }>((resolve, reject) =>
        client.whatDeadline({}, new Metadata(), { deadline }, (e, res) => (e ? reject(e) : resolve(res))),
      );
      // The deadline travels as a relative timeout (grpc-timeout), so it arrives within a few ms of the sent one.
      expect(Math.abs(answer.deadline! - deadline.getTime())).toBeLessThan(200);
      expect(answer.capped).toBe(answer.deadline);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });

  it('when there is no caller deadline, then an outgoing deadline and an inner wait are the configured ones', () => {
    expect(cappedDeadline(3_000, 1_000).getTime()).toBe(4_000);
    expect(cappedWaitMs(4_000, 250, 1_000)).toBe(4_000);
  });

  it('when the caller gives less time than configured, then outgoing deadlines and inner waits end before the caller gives up', () => {
    runWithDeadline(new Date(2_000), () => {
      expect(cappedDeadline(3_000, 1_000).getTime()).toBe(2_000);
      expect(cappedWaitMs(4_000, 250, 1_000)).toBe(750);
      expect(cappedWaitMs(4_000, 250, 1_900)).toBe(0);
    });
    runWithDeadline(Infinity, () => expect(currentDeadline()).toBeUndefined());
  });

  it('when an inner wait is not shorter than what must outlast it, then the chain is refused naming both variables', () => {
    expect(() => checkTimeoutChain([{ inner: ['A_WAIT_MS', 10], outer: ['B_DEADLINE_MS', 20], why: 'a waits inside b' }])).not.toThrow();
    const refusal = (() => {
      try {
        checkTimeoutChain([
          { inner: ['IDEMPOTENCY_WAIT_MS', 5_000], outer: ['DOWNSTREAM_DEADLINE_MS', 5_000], why: 'a duplicate must get 409, not 504' },
          { inner: ['A_WAIT_MS', 1], outer: ['B_DEADLINE_MS', 2], why: 'fine' },
        ]);
      } catch (error) {
        return error;
      }
    })() as ConfigError;
    expect(refusal).toBeInstanceOf(ConfigError);
    expect(refusal.problems).toEqual([
      'IDEMPOTENCY_WAIT_MS (5000 ms) must be shorter than DOWNSTREAM_DEADLINE_MS (5000 ms): a duplicate must get 409, not 504',
    ]);
  });
});
