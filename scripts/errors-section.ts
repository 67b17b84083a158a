/**
 * Prints the errors.md section of a package from its code table, for pasting into
 * docs/reference/errors.md (each package's tests then keep the two in step):
 *   npx tsx --conditions=@mef/source scripts/errors-section.ts packages/plugin-rbl rblErrorCodes
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dir, exportName] = process.argv.slice(2);
if (!dir || !exportName) {
  console.error('usage: errors-section.ts PACKAGE_DIR EXPORT_NAME');
  process.exit(2);
}
const pkg = (await import(pathToFileURL(resolve(dir, 'package.json')).href, { with: { type: 'json' } }))
  .default as {
  name: string;
};
const mod = (await import(pathToFileURL(resolve(dir, 'src/index.ts')).href)) as Record<
  string,
  Record<string, string>
>;
const codes = mod[exportName];
if (!codes) throw new Error(`${exportName} is not exported by ${dir}`);
console.log(`## ${pkg.name}\n\n| code | meaning |\n| --- | --- |`);
for (const [code, meaning] of Object.entries(codes))
  console.log(`| \`${code}\` | ${meaning.replace(/\|/g, '\\|')} |`);
