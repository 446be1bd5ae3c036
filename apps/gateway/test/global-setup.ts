import { BROWSER_PACKAGES, ensurePackages, testStack } from '@orderflow/stack';

export default async () => {
  await testStack.setup();
  ensurePackages(() => undefined, BROWSER_PACKAGES);
};
