import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@mef/source'] },
  ssr: { resolve: { conditions: ['@mef/source'] } },
  test: {
    name: 'plugin-spam',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    // rspamd compiles its regex cache on a cold start (about 6.5 s, more on a busy machine).
    hookTimeout: 90_000,
  },
});
