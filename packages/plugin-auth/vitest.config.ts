import { project } from '../../vitest.base.js';

export default project('plugin-auth', {
  testTimeout: 30_000,
  hookTimeout: 30_000,
});
