import { project } from '../../vitest.base.js';

export default project('core', {
  typeTests: true,
  testTimeout: 30_000,
});
