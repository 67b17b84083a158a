/**
 * The import rules (`.dependency-cruiser.cjs`, run on the workspace by `pnpm check:imports`)
 * fail on each kind of bad import: the fixture is a small workspace with one of each, plus
 * imports the rules allow, and the check must report exactly the bad ones.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const fixtures = join(here, 'fixtures');

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

it('reports every forbidden import of the fixture and none of the allowed ones', () => {
  const r = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs'),
      'packages',
      'bench',
      '--config',
      join(root, '.dependency-cruiser.cjs'),
      '--output-type',
      'json',
    ],
    { cwd: fixtures, encoding: 'utf8', timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
  );
  expect(r.stdout, r.stderr).not.toBe('');
  const found = (JSON.parse(r.stdout) as { summary: { violations: Violation[] } }).summary.violations
    .map((v) => `${v.rule.name}: ${v.from} -> ${v.to.replace(/^.*node_modules\/([^.][^/]*)\/.*$/, '$1')}`)
    .sort();
  expect(found).toEqual(
    [
      'core-imports-no-package: packages/core/src/index.ts -> packages/plugin-a/src/index.ts',
      'plugin-imports-no-plugin: packages/plugin-a/src/index.ts -> packages/plugin-b/src/index.ts',
      'plugin-imports-no-host: packages/plugin-b/src/index.ts -> packages/relay/src/index.ts',
      'test-servers-only-in-tests: packages/relay/src/index.ts -> packages/test-servers/src/index.ts',
      'no-relative-import-across-packages: packages/core/src/index.ts -> packages/plugin-a/src/index.ts',
      'no-relative-import-across-packages: packages/plugin-a/src/index.ts -> packages/plugin-b/src/index.ts',
      'no-relative-import-across-packages: packages/plugin-b/src/index.ts -> packages/relay/src/index.ts',
      'no-relative-import-across-packages: packages/relay/src/index.ts -> packages/test-servers/src/index.ts',
      'no-relative-import-across-packages: packages/relay/test/cross.test.ts -> packages/plugin-b/test/helper.ts',
      'no-relative-import-across-packages: packages/relay/test/cross.test.ts -> packages/test-servers/src/index.ts',
      'no-relative-import-from-bench: bench/src/deep.ts -> packages/plugin-a/src/index.ts',
      'dependency-declared: packages/relay/src/undeclared.ts -> typescript',
      'src-imports-no-dev-dependency: packages/relay/src/dev.ts -> tsx',
      'not-resolvable: packages/relay/src/typo.ts -> ./nothing.js',
    ].sort(),
  );
});
