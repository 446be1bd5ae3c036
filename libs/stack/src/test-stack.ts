import { startStack, stackInfo, stackStatus, StackInfo, stopStack } from './stack';

const PROFILE = 'test';
/** Three independent Redis masters, so Redlock quorum tests have them; most tests use the first. */
export const TEST_REDIS_COUNT = 3;
/**
 * Three MariaDB servers: the shards of each set live on the first two (startSystem's default); tests of
 * bucket moves add a shard on the third and move buckets to it (ADR 0009).
 */
export const TEST_MARIADB_COUNT = 3;

/**
 * For Jest's globalSetup/globalTeardown. `npm test` starts one test stack for every project and sets
 * ORDERFLOW_TEST_STACK=external; a project run alone (`nx test inventory`) starts its own on the test
 * ports and stops it afterwards, unless one was already running (then it is left as it was).
 */
export const testStack = {
  info(): StackInfo {
    return stackInfo(PROFILE, TEST_REDIS_COUNT, TEST_MARIADB_COUNT);
  },

  async setup(): Promise<void> {
    if (process.env.ORDERFLOW_TEST_STACK === 'external') return;
    const wasRunning = (await stackStatus(PROFILE)).some((s) => s.running);
    await startStack({ profile: PROFILE, redisCount: TEST_REDIS_COUNT, mariadbCount: TEST_MARIADB_COUNT, log: () => undefined });
    (globalThis as { __orderflowStartedStack?: boolean }).__orderflowStartedStack = !wasRunning;
  },

  async teardown(): Promise<void> {
    if ((globalThis as { __orderflowStartedStack?: boolean }).__orderflowStartedStack) {
      await stopStack({ profile: PROFILE, log: () => undefined });
    }
  },
};
