import { project } from '../../vitest.base.js';

export default project('plugin-rbl', {
  typeTests: true,
  globalSetup: ['test/global-setup.ts'],
  testTimeout: 30_000,
});
