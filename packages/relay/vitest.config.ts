import { defineProject } from 'vitest/config';

export default defineProject({
  // Tests run on the TypeScript sources of the workspace packages, through `@mef/source`.
  resolve: { conditions: ['@mef/source'] },
  ssr: { resolve: { conditions: ['@mef/source'] } },
  test: {
    name: 'relay',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
