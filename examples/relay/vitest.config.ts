import { project } from '../../vitest.base.js';

export default project('example-relay', {
  testTimeout: 60_000,
});
