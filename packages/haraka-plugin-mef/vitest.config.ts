import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@mef/source'] },
  ssr: { resolve: { conditions: ['@mef/source'] } },
  test: {
    name: 'haraka-plugin-mef',
    include: ['test/**/*.test.ts'],
    // Builds and deploys the plugin once (`pnpm deploy`), as Haraka loads it from node_modules.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
