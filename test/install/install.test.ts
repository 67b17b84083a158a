/**
 * The packages as a user installs them: every published package is built and packed from a
 * copy of the workspace (nothing built needed), the tarballs are installed with plain npm into
 * a project outside the workspace, and there each entry loads as ESM and CJS, a scan runs, and
 * the `mef` binary scans the samples. The last block breaks two packages on purpose and shows
 * that the same checks catch it.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildPackage,
  type PublishedPackage,
  packPackage,
  publishedPackages,
} from '../../scripts/pack/packages.js';
import { entryPoints, exec, installTarballs, loadProblems, missingFiles } from './project.js';
import { stageWorkspace } from './stage.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsup = join(root, 'node_modules', 'tsup', 'dist', 'cli-default.js');
const pnpm = join(root, 'scripts', 'pnpm.sh');
const samples = ['01-ham.eml', '02-gtube.eml', '03-double-extension.eml'].map((f) =>
  join(root, 'packages', 'cli', 'samples', f),
);

let work = '';
let app = '';
let staged: PublishedPackage[] = [];
const tarballs = new Map<string, string>();

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'mef-install-'));
  staged = stageWorkspace(root, join(work, 'workspace'));
  for (const pkg of staged) buildPackage(pkg, { tsup, types: false });
  for (const pkg of staged) tarballs.set(pkg.name, packPackage(pkg, { pnpm, dest: join(work, 'packs') }));
  app = join(work, 'app');
  installTarballs(app, [...tarballs.values()]);
  for (const f of ['scan.mjs', 'scan.cjs', 'scan-files.cjs'])
    cpSync(join(root, 'test', 'install', 'app', f), join(app, f));
}, 1_200_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed packages installed with npm outside the workspace', () => {
  it('packs every published package of the workspace', () => {
    const names = publishedPackages(root).map((p) => p.name);
    expect(names).toContain('@mef/core');
    expect([...tarballs.keys()]).toEqual(names);
  });

  it('ships every file its package.json points at', () => {
    const problems = [...tarballs.keys()].flatMap((name) => missingFiles(app, name, { types: false }));
    expect(problems).toEqual([]);
  });

  it('loads every entry with import and with require, with the same names', () => {
    const specs = [...tarballs.keys()].flatMap((name) => entryPoints(app, name));
    expect(specs).toContain('@mef/core/testing');
    expect(specs).toContain('@mef/core/hosts');
    expect(loadProblems(app, specs)).toEqual([]);
  });

  it.each(['scan.mjs', 'scan.cjs'])('scans with @mef/core/hosts and two plugins (%s)', (script) => {
    const r = exec(app, process.execPath, [script, ...samples]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, { disposition: string; symbols: string[] }>;
    expect(out['01-ham.eml']).toEqual({ disposition: 'accept', symbols: [] });
    expect(out['02-gtube.eml']?.disposition).toBe('reject');
    expect(out['02-gtube.eml']?.symbols).toContain('GTUBE');
    expect(out['03-double-extension.eml']?.disposition).toBe('reject');
    expect(out['03-double-extension.eml']?.symbols).toContain('BANNED_DOUBLE_EXTENSION');
  });

  it('runs the mef binary of the installed cli on the samples', () => {
    const r = exec(app, join(app, 'node_modules', '.bin', 'mef'), ['scan', '--json', ...samples]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { source: string; disposition: string });
    expect(lines.map((l) => l.disposition)).toEqual(['accept', 'reject', 'reject']);
  });
});

describe('self-test: the same checks fail on a broken package', () => {
  let broken = '';
  beforeAll(() => {
    // @mef/core packs without its testing entry; @mef/plugin-antivirus declares yauzl only as a
    // devDependency, so it resolves in the workspace but is not installed with the package.
    const core = staged.find((p) => p.name === '@mef/core')!;
    const av = staged.find((p) => p.name === '@mef/plugin-antivirus')!;
    const packs = join(work, 'broken-packs');
    const tgz = [
      packEdited(core, packs, (m) => {
        m.files = ['dist/index.*'];
      }),
      packEdited(av, packs, (m) => {
        const deps = m.dependencies as Record<string, string>;
        m.devDependencies = { ...(m.devDependencies as object), yauzl: deps.yauzl };
        delete deps.yauzl;
      }),
    ];
    broken = join(work, 'broken-app');
    installTarballs(broken, tgz);
  }, 600_000);

  it('finds the file a package.json points at but the package lacks', () => {
    expect(missingFiles(broken, '@mef/core', { types: false })).toContain(
      '@mef/core: missing ./dist/testing/index.js',
    );
    expect(loadProblems(broken, ['@mef/core/testing']).join('\n')).toMatch(
      /@mef\/core\/testing: import failed/,
    );
  });

  it('finds a dependency that resolves only inside the workspace', () => {
    expect(loadProblems(broken, ['@mef/plugin-antivirus']).join('\n')).toMatch(
      /@mef\/plugin-antivirus: import failed: .*yauzl/,
    );
  });
});

/** Packs `pkg` with its package.json edited by `edit`, then puts the package.json back. */
function packEdited(pkg: PublishedPackage, dest: string, edit: (m: Record<string, unknown>) => void): string {
  const file = join(pkg.dir, 'package.json');
  const original = readFileSync(file, 'utf8');
  const manifest = JSON.parse(original) as Record<string, unknown>;
  edit(manifest);
  writeFileSync(file, JSON.stringify(manifest, null, 2));
  try {
    return packPackage(pkg, { pnpm, dest });
  } finally {
    writeFileSync(file, original);
  }
}
