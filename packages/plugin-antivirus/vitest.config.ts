import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@mef/source'] },
  ssr: { resolve: { conditions: ['@mef/source'] } },
  test: {
    name: 'plugin-antivirus',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
