import { defineProject } from 'vitest/config';

export default defineProject({
  // Tests run on the TypeScript sources of @mef/core, through its `@mef/source` condition.
  resolve: { conditions: ['@mef/source'] },
  ssr: { resolve: { conditions: ['@mef/source'] } },
  test: {
    name: 'admin',
    include: ['test/**/*.test.ts'],
    // Starts a real PostgreSQL and a DNS server on loopback for the suite.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
