import { startStack, stackInfo, stackStatus, StackInfo, stopStack } from './stack';

const PROFILE = 'test';

/**
 * For Jest's globalSetup/globalTeardown. `npm test` starts one test stack for every project and sets
 * ORDERFLOW_TEST_STACK=external; a project run alone (`nx test inventory`) starts its own on the test
 * ports and stops it afterwards, unless one was already running (then it is left as it was).
 */
export const testStack = {
  info(): StackInfo {
    return stackInfo(PROFILE, 1);
  },

  async setup(): Promise<void> {
    if (process.env.ORDERFLOW_TEST_STACK === 'external') return;
    const wasRunning = (await stackStatus(PROFILE)).some((s) => s.running);
    await startStack({ profile: PROFILE, redisCount: 1, log: () => undefined });
    (globalThis as { __orderflowStartedStack?: boolean }).__orderflowStartedStack = !wasRunning;
  },

  async teardown(): Promise<void> {
    if ((globalThis as { __orderflowStartedStack?: boolean }).__orderflowStartedStack) {
      await stopStack({ profile: PROFILE, log: () => undefined });
    }
  },
};
