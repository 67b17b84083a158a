import { project } from '../../vitest.base.js';

export default project('milter', {
  testTimeout: 60_000,
  hookTimeout: 60_000,
});
