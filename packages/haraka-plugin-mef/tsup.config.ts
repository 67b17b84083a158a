import { defineConfig } from 'tsup';
import { esmRequire, fromSources, library } from '../../tsup.base.js';

export default defineConfig(
  library({
    // The worker of the opt-in thread pool is a file of its own beside index (threads.ts).
    entry: { index: 'src/index.ts', worker: 'src/worker.ts' },
    // Haraka loads a plugin with require() of its folder: `main` is the CommonJS build.
    format: ['cjs', 'esm'],
    // MEF's own packages are bundled from their sources: the plugin loads without any other MEF
    // package built, and a `pnpm deploy` folder is ready for Haraka. Their npm dependencies come
    // from the `@mef/*` dependencies installed beside it.
    noExternal: [/^@mef\//],
    esbuildOptions: fromSources,
    banner: esmRequire,
    platform: 'node',
  }),
);
