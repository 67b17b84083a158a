import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@mef/source'] },
  ssr: { resolve: { conditions: ['@mef/source'] } },
  test: {
    name: 'example-hosts',
    include: ['test/**/*.test.ts'],
    // Haraka loads the plugin's JavaScript build: the setup builds it (without types).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
