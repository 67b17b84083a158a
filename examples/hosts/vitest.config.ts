import { project } from '../../vitest.base.js';

export default project('example-hosts', {
  // Haraka loads the plugin's JavaScript build: the setup builds it (without types).
  globalSetup: ['test/global-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 120_000,
});
