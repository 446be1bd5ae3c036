import { createRateLimiter, retryAfterSeconds, takeToken } from './rate-limiter';

describe('token bucket rate limiter', () => {
  const settings = { perSecond: 2, burst: 3 };

  it('when a new key sends burst requests at once, then all pass and the next is refused with the time until one token is back', () => {
    let bucket = undefined as ReturnType<typeof takeToken>['bucket'] | undefined;
    const results = [];
    for (let i = 0; i < 4; i++) {
      const step = takeToken(bucket, 1_000, settings);
      bucket = step.bucket;
      results.push(step.result);
    }
    expect(results).toEqual([{ allowed: true }, { allowed: true }, { allowed: true }, { allowed: false, retryAfterMs: 500 }]);
  });

  it('when time passes, then tokens come back at the rate, never beyond the burst', () => {
    let clock = 0;
    const limiter = createRateLimiter(settings, { now: () => clock });
    for (let i = 0; i < 3; i++) expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 500 });
    clock += 250; // half a token
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 250 });
    clock += 250;
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    clock += 60_000; // a long pause refills to the burst only
    expect([1, 2, 3, 4].map(() => limiter.take('a').allowed)).toEqual([true, true, true, false]);
  });

  it('when one key is exhausted, then another key is not affected', () => {
    const limiter = createRateLimiter(settings, { now: () => 0 });
    for (let i = 0; i < 3; i++) limiter.take('alice');
    expect(limiter.take('alice').allowed).toBe(false);
    expect(limiter.take('bob').allowed).toBe(true);
  });

  it('when more keys than maxKeys are seen, then the least recently used is forgotten and comes back full', () => {
    const limiter = createRateLimiter(settings, { now: () => 0, maxKeys: 2 });
    for (let i = 0; i < 3; i++) limiter.take('old'); // old is empty
    limiter.take('b');
    limiter.take('c'); // three keys: old, the least recently used, is forgotten
    expect(limiter.size()).toBe(2);
    expect(limiter.take('old').allowed).toBe(true); // back with a full bucket
    expect(limiter.size()).toBe(2);
  });

  it('when the clock goes backwards, then no tokens are created', () => {
    let clock = 10_000;
    const limiter = createRateLimiter({ perSecond: 1, burst: 1 }, { now: () => clock });
    expect(limiter.take('a').allowed).toBe(true);
    clock = 0;
    expect(limiter.take('a').allowed).toBe(false);
  });

  it('when the settings cannot limit anything, then the limiter refuses to be built', () => {
    expect(() => createRateLimiter({ perSecond: 0, burst: 5 })).toThrow(RangeError);
    expect(() => createRateLimiter({ perSecond: 5, burst: 0 })).toThrow(RangeError);
  });

  it('when a wait in milliseconds becomes a Retry-After, then it is whole seconds rounded up and at least 1', () => {
    expect([0, 1, 999, 1_000, 1_001, 2_500].map(retryAfterSeconds)).toEqual([1, 1, 1, 1, 2, 3]);
  });
});
