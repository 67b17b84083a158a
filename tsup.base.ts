/**
 * The one tsup setup of every published package: ESM + CommonJS + types for Node 20, with
 * source maps. A package's `tsup.config.ts` calls {@link library} in one line and passes only
 * what differs (entries, externals, a second build).
 */
import type { Options } from 'tsup';

/** What a package may change from the shared setup. */
export type LibraryOptions = Omit<Options, 'entry'> & {
  /** Entry points by output name. Default `{ index: 'src/index.ts' }`. */
  readonly entry?: Record<string, string>;
};

/**
 * tsup options for a library entry. The base tsconfig is composite (for `tsc --build`), and the
 * d.ts bundler wants a plain program: packages without a `tsconfig.build.json` get
 * `composite: false` here. `MEF_BUILD_NO_DTS=1` skips the declaration build (the slow part) for
 * tests that only load the JavaScript.
 */
export function library(options: LibraryOptions = {}): Options {
  const { entry = { index: 'src/index.ts' }, ...rest } = options;
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: process.env.MEF_BUILD_NO_DTS
      ? false
      : options.tsconfig
        ? true
        : { compilerOptions: { composite: false } },
    clean: true,
    sourcemap: true,
    target: 'node20',
    ...rest,
  };
}

/**
 * esbuild options that bundle MEF's own packages from their TypeScript sources (the
 * `@mef/source` export condition), so a bundle needs no other MEF package built first.
 */
export function fromSources(options: { conditions?: string[] }): void {
  options.conditions = ['@mef/source'];
}

/**
 * For an ESM bundle that bundles CommonJS modules: they call require() for Node's built-ins,
 * which an ES module does not have. A no-op for the CommonJS build.
 */
export const esmRequire: NonNullable<Options['banner']> = (ctx) =>
  ctx.format === 'esm'
    ? {
        js: "import { createRequire as __mefCreateRequire } from 'node:module'; const require = __mefCreateRequire(import.meta.url);",
      }
    : {};
