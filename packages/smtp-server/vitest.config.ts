import { project } from '../../vitest.base.js';

export default project('smtp-server', {
  testTimeout: 60_000,
  hookTimeout: 60_000,
});
