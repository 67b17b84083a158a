import { project } from '../../vitest.base.js';

export default project('test-servers', {
  testTimeout: 60_000,
});
