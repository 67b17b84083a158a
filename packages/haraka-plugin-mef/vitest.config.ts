import { project } from '../../vitest.base.js';

export default project('haraka-plugin-mef', {
  // Builds and deploys the plugin once (`pnpm deploy`), as Haraka loads it from node_modules.
  globalSetup: ['test/global-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 180_000,
});
