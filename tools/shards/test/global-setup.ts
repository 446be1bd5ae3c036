import fs from 'node:fs';
import path from 'node:path';
import { testStack } from '@orderflow/stack';
import { migrateAppSchemas } from './app-schemas';

/**
 * The test stack and the services' template shards, unless the run selects none of test/'s specs (the
 * unit specs beside the code, `npm run test:unit`, need no servers).
 */
export default async (globalConfig: { testPathPatterns?: { patterns?: string[] } }) => {
  const patterns = globalConfig.testPathPatterns?.patterns ?? [];
  const serverSpecs = fs
    .readdirSync(__dirname)
    .filter((file) => file.endsWith('.spec.ts'))
    .map((file) => path.join(__dirname, file));
  if (patterns.length > 0 && !serverSpecs.some((file) => patterns.some((pattern) => new RegExp(pattern, 'i').test(file)))) return;
  await testStack.setup();
  await migrateAppSchemas();
};
