import { ConflictError, VersionConflict } from './errors';

export interface RetryPolicy {
  run<T>(work: () => Promise<T>, retryable: (error: unknown) => boolean): Promise<T>;
}

export const isVersionConflict = (error: unknown): error is VersionConflict => error instanceof VersionConflict;

/** A conflict that outlasted the retries: the caller may try again (ABORTED). */
export const contentionOn = (productId: string) => new ConflictError(`too much contention on product ${productId}; try again`);

/** Runs `work` again while it loses version races, within the policy; a conflict that outlasts it becomes a ConflictError. */
export function withConflictRetries(policy: RetryPolicy) {
  return async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await policy.run(work, isVersionConflict);
    } catch (error) {
      throw isVersionConflict(error) ? contentionOn(error.productId) : error;
    }
  };
}

export type ConflictRetries = ReturnType<typeof withConflictRetries>;
