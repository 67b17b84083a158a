import { project } from '../../vitest.base.js';

export default project('admin', {
  // Starts a real PostgreSQL and a DNS server on loopback for the suite.
  globalSetup: ['test/global-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 120_000,
});
