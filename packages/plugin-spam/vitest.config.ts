import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@mef/source'] },
  ssr: { resolve: { conditions: ['@mef/source'] } },
  test: {
    name: 'plugin-spam',
    include: ['test/**/*.test.ts'],
    // Type-level tests (*.test-d.ts) run through tsc: an @ts-expect-error that finds no error fails.
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.typecheck.json' },
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    // rspamd compiles its regex cache on a cold start (about 6.5 s, more on a busy machine).
    hookTimeout: 90_000,
  },
});
