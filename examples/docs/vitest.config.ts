import { project } from '../../vitest.base.js';

export default project('example-docs', {
  // Starts the real servers the examples talk to (clamd, rbldnsd, rspamd, Redis).
  globalSetup: ['test/global-setup.ts'],
  testTimeout: 180_000,
  hookTimeout: 240_000,
});
