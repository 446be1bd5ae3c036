/**
 * A token bucket per key: `burst` tokens at most, refilled at `perSecond` tokens a second; a request takes
 * one. Pure arithmetic over an injected clock reading, so the rule is tested without waiting.
 */
export interface TokenBucketSettings {
  perSecond: number;
  burst: number;
}

export interface Bucket {
  tokens: number;
  /** The clock reading (ms) `tokens` was computed at. */
  at: number;
}

export type TakeResult = { allowed: true } | { allowed: false; retryAfterMs: number };

/** One request against a bucket (undefined: a full one). Returns the bucket after it and the decision. */
export function takeToken(bucket: Bucket | undefined, nowMs: number, settings: TokenBucketSettings): { bucket: Bucket; result: TakeResult } {
  const elapsed = bucket ? Math.max(0, nowMs - bucket.at) : 0;
  const tokens = bucket ? Math.min(settings.burst, bucket.tokens + (elapsed * settings.perSecond) / 1000) : settings.burst;
  if (tokens >= 1) return { bucket: { tokens: tokens - 1, at: nowMs }, result: { allowed: true } };
  // When the next whole token will be there.
  return { bucket: { tokens, at: nowMs }, result: { allowed: false, retryAfterMs: Math.ceil(((1 - tokens) * 1000) / settings.perSecond) } };
}

/** Whole seconds for a Retry-After header: rounded up, at least 1 (a client retrying sooner is refused again). */
export const retryAfterSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/**
 * Buckets by key (the customer), in memory. At most `maxKeys` are kept: the least recently used goes
 * first, which only ever forgives (a forgotten bucket comes back full).
 */
export function createRateLimiter(settings: TokenBucketSettings, options: { maxKeys?: number; now?: () => number } = {}) {
  if (!(settings.perSecond > 0) || !(settings.burst >= 1)) throw new RangeError('a rate limit needs perSecond > 0 and burst >= 1');
  const maxKeys = options.maxKeys ?? 100_000;
  const now = options.now ?? (() => performance.now());
  const buckets = new Map<string, Bucket>();
  return {
    take(key: string): TakeResult {
      const { bucket, result } = takeToken(buckets.get(key), now(), settings);
      buckets.delete(key); // re-inserted last: Map order is recency
      buckets.set(key, bucket);
      if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value as string);
      return result;
    },
    /** How many keys are remembered (for tests). */
    size: () => buckets.size,
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
