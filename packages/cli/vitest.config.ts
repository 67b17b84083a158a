import { project } from '../../vitest.base.js';

export default project('cli', {
  // Builds dist/bin.js once and starts the real servers the scanner flags are tested against.
  globalSetup: ['test/global-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 120_000,
});
