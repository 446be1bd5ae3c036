import { decideGatewayKeyed, decideGatewayKeyedFailure } from './gateway-keyed-placement';
import type { Order } from './model';
import type { IdempotencyRecord } from './ports';

const fingerprint = 'f'.repeat(64);
const record = (state: IdempotencyRecord['state'], print = fingerprint): IdempotencyRecord => ({
  fingerprint: print,
  orderId: 'o1',
  state,
  ...(state === 'DONE' ? { outcome: { kind: 'order' as const, order: { id: 'o1' } as Order } } : {}),
});

describe("the write of an order under the gateway's own key (decideGatewayKeyed)", () => {
  it('when the order and its key were stored, then this call placed the order', () => {
    expect(decideGatewayKeyed({ kind: 'stored' }, fingerprint)).toEqual({ kind: 'placed' });
  });

  it('when the order id was taken, then a fresh id is drawn', () => {
    expect(decideGatewayKeyed({ kind: 'duplicate-id' }, fingerprint)).toEqual({ kind: 'draw-new-id' });
  });

  it('when the key is DONE with the same body, then its answer is replayed', () => {
    const done = record('DONE');
    expect(decideGatewayKeyed({ kind: 'existing-key', record: done }, fingerprint)).toEqual({ kind: 'replay', record: done });
  });

  it('when the key is IN_FLIGHT (a claim-path call), then the first call is awaited as the claim path does', () => {
    const inFlight = record('IN_FLIGHT');
    expect(decideGatewayKeyed({ kind: 'existing-key', record: inFlight }, fingerprint)).toEqual({ kind: 'await-first-call', record: inFlight });
  });

  it('when the key was used with another body, then the call is refused as reused, whatever the key state', () => {
    for (const state of ['DONE', 'IN_FLIGHT'] as const) {
      expect(decideGatewayKeyed({ kind: 'existing-key', record: record(state, 'other') }, fingerprint)).toEqual({ kind: 'refuse-reused' });
    }
  });
});

describe("a failed Reserve under the gateway's own key (decideGatewayKeyedFailure)", () => {
  it('when the key is not stored, then the failure is the answer (nothing is stored for it)', () => {
    expect(decideGatewayKeyedFailure(undefined, fingerprint)).toEqual({ kind: 'answer-failure' });
  });

  it('when the key is stored (the first call placed the order), then the key answers, not the failure', () => {
    const done = record('DONE');
    expect(decideGatewayKeyedFailure(done, fingerprint)).toEqual({ kind: 'replay', record: done });
    expect(decideGatewayKeyedFailure(record('IN_FLIGHT'), fingerprint)).toMatchObject({ kind: 'await-first-call' });
    expect(decideGatewayKeyedFailure(record('DONE', 'other'), fingerprint)).toEqual({ kind: 'refuse-reused' });
  });
});
