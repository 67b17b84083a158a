import { project } from '../../vitest.base.js';

export default project('plugin-spam', {
  typeTests: true,
  globalSetup: ['test/global-setup.ts'],
  testTimeout: 60_000,
  // rspamd compiles its regex cache on a cold start (about 6.5 s, more on a busy machine).
  hookTimeout: 90_000,
});
