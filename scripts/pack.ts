/**
 * `pnpm pack:all`: packs every published package (built first by the script's `pnpm run build`)
 * into `.tmp/packs/`, the tarballs the READMEs install from until the packages are on npm.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packPackage, publishedPackages } from './pack/packages.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dest = join(root, '.tmp', 'packs');
mkdirSync(dest, { recursive: true });
for (const pkg of publishedPackages(root)) {
  const tgz = packPackage(pkg, { pnpm: join(root, 'scripts', 'pnpm.sh'), dest });
  console.log(relative(process.cwd(), tgz));
}
