import { testStack } from '@orderflow/stack';
import { migrateAppSchemas } from './app-schemas';

export default async () => {
  await testStack.setup();
  await migrateAppSchemas();
};
