import { defineProject } from 'vitest/config';

export default defineProject({
  // Tests run on the TypeScript sources of @mef/core, through its `@mef/source` condition.
  resolve: { conditions: ['@mef/source'] },
  ssr: { resolve: { conditions: ['@mef/source'] } },
  test: {
    name: 'plugin-rbl',
    include: ['test/**/*.test.ts'],
    // Type-level tests (*.test-d.ts) run through tsc: an @ts-expect-error that finds no error fails.
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.typecheck.json' },
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
  },
});
