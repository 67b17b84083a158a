import { project } from '../../vitest.base.js';

export default project('plugin-antivirus', {
  typeTests: true,
  globalSetup: ['test/global-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 60_000,
});
