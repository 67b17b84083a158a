import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@mef/source'] },
  ssr: { resolve: { conditions: ['@mef/source'] } },
  test: {
    name: 'example-docs',
    include: ['test/**/*.test.ts'],
    // Starts the real servers the examples talk to (clamd, rbldnsd, rspamd, Redis).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 240_000,
  },
});
