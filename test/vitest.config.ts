import { defineProject } from 'vitest/config';

// Checks of the workspace as a whole (not of one package): the packed packages installed with npm.
export default defineProject({
  test: {
    name: 'workspace',
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/fixtures/**'],
    // Building and installing every package takes minutes on a loaded machine.
    testTimeout: 120_000,
    hookTimeout: 1_200_000,
  },
});
