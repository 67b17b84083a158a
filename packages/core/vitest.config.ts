import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@mef/source'] },
  ssr: { resolve: { conditions: ['@mef/source'] } },
  test: {
    name: 'core',
    include: ['test/**/*.test.ts'],
    // Type-level tests (*.test-d.ts) run through tsc: an @ts-expect-error that finds no error fails.
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.typecheck.json' },
    testTimeout: 30_000,
  },
});
