import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@mef/source'] },
  ssr: { resolve: { conditions: ['@mef/source'] } },
  test: { name: 'core', include: ['test/**/*.test.ts'], testTimeout: 30_000 },
});
