import { defineProject } from 'vitest/config';

export default defineProject({
  // Tests run on the TypeScript sources of @mef/core and @mef/plugin-rbl, through `@mef/source`.
  resolve: { conditions: ['@mef/source'] },
  ssr: { resolve: { conditions: ['@mef/source'] } },
  test: {
    name: 'plugin-auth',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
