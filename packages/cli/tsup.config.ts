import { defineConfig, type Options } from 'tsup';

const library: Options = {
  // The library entry: ESM + CJS + types, dependencies left external.
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: ['index.*'],
  sourcemap: true,
  target: 'node20',
  tsconfig: 'tsconfig.build.json',
};

const binary: Options = {
  // The `mef` binary: one self-contained ESM file. MEF's own packages are bundled from their
  // sources (the `@mef/source` condition), so the binary needs no other package built first,
  // and it starts without resolving a tree of modules (the Redis client for `--redis` included).
  entry: { bin: 'src/bin.ts' },
  format: ['esm'],
  clean: ['bin.*'],
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  tsconfig: 'tsconfig.build.json',
  // Except the admin store's native SQLite driver (and pg's optional native binding): they load
  // from node_modules when `mef admin` opens a store.
  noExternal: [/^(?!better-sqlite3$|pg-native$)/],
  external: ['better-sqlite3', 'pg-native'],
  banner: {
    // Bundled CommonJS modules call require() for Node's built-ins.
    js: "import { createRequire as __mefCreateRequire } from 'node:module'; const require = __mefCreateRequire(import.meta.url);",
  },
  esbuildOptions(options) {
    options.conditions = ['@mef/source'];
  },
};

// The tests build only the binary (MEF_BUILD_BIN_ONLY): they spawn it, and the type build is slow.
export default defineConfig(process.env.MEF_BUILD_BIN_ONLY ? [binary] : [library, binary]);
