import { testStack } from '../src';

export default () => testStack.setup();
