import { testStack } from '@orderflow/stack';
import { dropAppSchemas } from './app-schemas';

export default async () => {
  await dropAppSchemas();
  await testStack.teardown();
};
