import { testStack } from '@orderflow/stack';

export default () => testStack.setup();
