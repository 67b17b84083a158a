import { defineConfig } from 'vitest/config';

// One run over every package: each package with a test/ folder is a project, so
// a package's own globalSetup (which starts its real servers) runs only for it.
export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/*', 'test'],
    reporters: ['default'],
  },
});
