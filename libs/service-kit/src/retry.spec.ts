import { backoffDelay, retry } from './retry';

describe('retry', () => {
  const fast = { baseDelayMs: 1, maxDelayMs: 2 };

  it('when work fails with a retryable error, then it is tried again until it succeeds', async () => {
    let calls = 0;
    const result = await retry(async () => (++calls < 3 ? Promise.reject(new Error('conflict')) : 'done'), {
      ...fast,
      attempts: 5,
      retryable: () => true,
    });
    expect(result).toBe('done');
    expect(calls).toBe(3);
  });

  it('when attempts run out, then the last error is thrown', async () => {
    let calls = 0;
    await expect(retry(async () => Promise.reject(new Error(`fail ${++calls}`)), { ...fast, attempts: 4, retryable: () => true })).rejects.toThrow('fail 4');
  });

  it('when the error is not retryable, then it is thrown at once', async () => {
    let calls = 0;
    await expect(retry(async () => Promise.reject(new Error(`fail ${++calls}`)), { ...fast, attempts: 4, retryable: () => false })).rejects.toThrow('fail 1');
  });

  it('when the attempt grows, then the delay ceiling doubles up to the maximum', () => {
    const top = { baseDelayMs: 10, maxDelayMs: 100, random: () => 0.999999 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, top))).toEqual([9, 19, 39, 79, 99, 99]);
  });
});
