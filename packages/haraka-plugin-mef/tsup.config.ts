import { defineConfig } from 'tsup';

export default defineConfig({
  // Haraka loads a plugin with require() of its folder: `main` is the CommonJS build.
  entry: { index: 'src/index.ts' },
  format: ['cjs', 'esm'],
  // MEF's own packages are bundled from their sources (the `@mef/source` condition): the plugin
  // loads without any other MEF package built, and a `pnpm deploy` folder is ready for Haraka.
  // Their npm dependencies come from the `@mef/*` dependencies installed beside it.
  noExternal: [/^@mef\//],
  esbuildOptions(options) {
    options.conditions = ['@mef/source'];
  },
  // The tests build without types (MEF_BUILD_NO_DTS): they only load the JavaScript.
  dts: process.env.MEF_BUILD_NO_DTS ? false : { compilerOptions: { composite: false } },
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
});
