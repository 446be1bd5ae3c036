import { ConflictError, VersionConflict } from './errors';
import { withConflictRetries } from './conflict-retries';

const upTo = (attempts: number) => ({
  run: async <T>(work: () => Promise<T>, retryable: (error: unknown) => boolean): Promise<T> => {
    for (let i = 1; ; i++) {
      try {
        return await work();
      } catch (error) {
        if (i >= attempts || !retryable(error)) throw error;
      }
    }
  },
});

describe('withConflictRetries', () => {
  it('when the work loses a version race and then wins, then it answers with the win', async () => {
    let calls = 0;
    const result = await withConflictRetries(upTo(3))(async () => (++calls < 2 ? Promise.reject(new VersionConflict('a')) : 'done'));
    expect({ result, calls }).toEqual({ result: 'done', calls: 2 });
  });

  it('when the conflicts outlast the policy, then it fails as a ConflictError naming the product', async () => {
    const error = await withConflictRetries(upTo(2))(async () => Promise.reject(new VersionConflict('hot'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toContain('hot');
  });

  it('when the work fails otherwise, then the error passes through untouched and is not retried', async () => {
    let calls = 0;
    const boom = new Error('boom');
    await expect(withConflictRetries(upTo(5))(async () => (calls++, Promise.reject(boom)))).rejects.toBe(boom);
    expect(calls).toBe(1);
  });
});
