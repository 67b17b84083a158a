import { project } from '../../vitest.base.js';

export default project('example-demo', {
  testTimeout: 30_000,
});
