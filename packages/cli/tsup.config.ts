import { defineConfig } from 'tsup';
import { esmRequire, fromSources, library } from '../../tsup.base.js';

// The library entry: ESM + CJS + types, dependencies left external.
const lib = library({ clean: ['index.*'], tsconfig: 'tsconfig.build.json' });

// The `mef` binary: one self-contained ESM file. MEF's own packages are bundled from their
// sources, so the binary needs no other package built first, and it starts without resolving a
// tree of modules (the Redis client for `--redis` included).
const bin = library({
  entry: { bin: 'src/bin.ts' },
  format: ['esm'],
  dts: false,
  clean: ['bin.*'],
  platform: 'node',
  tsconfig: 'tsconfig.build.json',
  // Except the admin store's native SQLite driver (and pg's optional native binding): they load
  // from node_modules when `mef admin` opens a store.
  noExternal: [/^(?!better-sqlite3$|pg-native$)/],
  external: ['better-sqlite3', 'pg-native'],
  banner: esmRequire,
  esbuildOptions: fromSources,
});

// The tests build only the binary (MEF_BUILD_BIN_ONLY): they spawn it, and the type build is slow.
export default defineConfig(process.env.MEF_BUILD_BIN_ONLY ? [bin] : [lib, bin]);
