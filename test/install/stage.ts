/**
 * A copy of the workspace's published packages in a scratch folder, without their build output,
 * so the install test builds and packs exactly what a fresh clone has, and never rewrites the
 * `dist/` folders that other tests of the same run load and spawn.
 *
 * Each package's node_modules is copied as the links pnpm made (relative links: `@mef/core`
 * points at the staged sibling, npm packages at the staged root node_modules, which links to the
 * workspace's), so the copy resolves like the workspace without installing anything.
 */
import { cpSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type PublishedPackage, publishedPackages } from '../../scripts/pack/packages.js';

/** Files of the workspace root the package builds read. */
const ROOT_FILES = ['tsconfig.base.json', 'tsup.base.ts'];
/** Folders of a package that are build output or not needed to build it. */
const SKIP = new Set(['dist', '.tsbuild', 'test', 'coverage', 'node_modules']);

/** Copies the published packages of `root` into `dest`; returns the staged packages. */
export function stageWorkspace(root: string, dest: string): PublishedPackage[] {
  mkdirSync(join(dest, 'packages'), { recursive: true });
  for (const f of ROOT_FILES) cpSync(join(root, f), join(dest, f));
  symlinkSync(join(root, 'node_modules'), join(dest, 'node_modules'), 'dir');
  const published = publishedPackages(root);
  // Private packages (test-servers) are not packed, but `pnpm pack` reads the version of each
  // workspace devDependency it rewrites: they are linked in as they are.
  for (const entry of readdirSync(join(root, 'packages'), { withFileTypes: true })) {
    const dir = join(root, 'packages', entry.name);
    if (entry.isDirectory() && !published.some((p) => p.dir === dir)) {
      symlinkSync(dir, join(dest, 'packages', entry.name), 'dir');
    }
  }
  for (const pkg of published) {
    const to = join(dest, 'packages', basename(pkg.dir));
    cpSync(pkg.dir, to, {
      recursive: true,
      filter: (src) => src === pkg.dir || !SKIP.has(relativeTop(pkg.dir, src)),
    });
    cpSync(join(pkg.dir, 'node_modules'), join(to, 'node_modules'), {
      recursive: true,
      verbatimSymlinks: true,
    });
  }
  return publishedPackages(dest);
}

/** The first path segment of `src` below `dir`, or '' for deeper files of a kept folder. */
function relativeTop(dir: string, src: string): string {
  const rest = src.slice(dir.length + 1);
  const slash = rest.indexOf('/');
  return slash < 0 ? rest : '';
}
