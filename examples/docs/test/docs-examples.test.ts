import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { allExamples, type DocExample, extractExamples, slug } from '../src/extract.js';

// Documentation is code: every complete TypeScript example (a ```ts block with its imports)
// in README.md, docs/ and the package READMEs is type-checked and run, so a guide can never
// again teach a pattern that does not compile, throws, or loses findings.

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, '..');
const root = resolve(pkg, '../..');
const out = join(pkg, '.generated');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

const examples = allExamples(root).filter((e) => e.complete);
const pathOf = (e: DocExample) => join(out, slug(e.doc), e.file);

function writeAll(): void {
  rmSync(out, { recursive: true, force: true });
  for (const e of examples) {
    mkdirSync(dirname(pathOf(e)), { recursive: true });
    writeFileSync(pathOf(e), e.code);
  }
  writeFileSync(
    join(out, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../../tsconfig.base.json',
      compilerOptions: {
        composite: false,
        declaration: false,
        declarationMap: false,
        noEmit: true,
        customConditions: ['@mef/source'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
      },
      include: ['**/*.ts'],
      exclude: ['_broken'],
    }),
  );
  writeFileSync(
    join(out, 'vitest.config.mjs'),
    "export default { resolve: { conditions: ['@mef/source'] }, ssr: { resolve: { conditions: ['@mef/source'] } }, test: { include: ['**/*.test.ts'], testTimeout: 120000 } };\n",
  );
}
writeAll();

describe('the extractor', () => {
  it('finds complete examples, names them, and tells fragments and tests apart', () => {
    const found = extractExamples(
      'x.md',
      "text\n```ts file=a.ts\nimport { x } from 'y';\n```\n  ```ts\n  indented\n  ```\n```ts\nconst fragment = 1;\n```\n```ts\nimport { it } from 'vitest';\n```\n",
    );
    expect(found.map((e) => [e.file, e.complete, e.test])).toEqual([
      ['a.ts', true, false],
      ['example-2.ts', false, false],
      ['example-3.test.ts', true, true],
    ]);
  });

  it('covers the docs and every package README that has an example', () => {
    const docs = new Set(examples.map((e) => e.doc));
    for (const d of [
      'docs/guides/writing-a-plugin.md',
      'packages/core/README.md',
      'packages/plugin-antivirus/README.md',
      'packages/plugin-rbl/README.md',
      'packages/plugin-spam/README.md',
    ]) {
      expect(docs, d).toContain(d);
    }
  });
});

describe('the checks fail a broken example', () => {
  it('tsc reports a type error and node exits non-zero on a throw', () => {
    const dir = join(out, '_broken');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'typed.ts'),
      "import { createEngine } from '@mef/core/hosts';\ncreateEngine({ thresholds: { reject: 'high' } });\n",
    );
    writeFileSync(
      join(dir, 'throws.ts'),
      "import { createEngine } from '@mef/core/hosts';\ncreateEngine();\nthrow new Error('broken example');\n",
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: '../tsconfig.json', include: ['*.ts'], exclude: [] }),
    );
    const t = spawnSync(bin('tsc'), ['-p', join(dir, 'tsconfig.json')], {
      encoding: 'utf8',
      timeout: 170_000,
    });
    expect(t.status).not.toBe(0);
    expect(t.stdout).toMatch(/typed\.ts.*error TS2322/);
    const r = spawnSync(
      process.execPath,
      ['--conditions=@mef/source', '--import', 'tsx', join(dir, 'throws.ts')],
      {
        cwd: pkg,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/broken example/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('every complete example compiles', () => {
  it(`type-checks ${examples.length} examples with the strict project settings`, () => {
    const r = spawnSync(bin('tsc'), ['-p', join(out, 'tsconfig.json')], {
      encoding: 'utf8',
      timeout: 170_000,
    });
    expect(r.stdout + r.stderr, 'tsc output').toBe('');
    expect(r.status).toBe(0);
  });
});

describe('every complete example runs', () => {
  const env = () => ({ ...process.env, ...inject('docsEnv'), NODE_OPTIONS: '' });
  for (const e of examples.filter((x) => !x.test)) {
    it(`${e.doc}:${e.line} (${e.file}) runs to the end`, () => {
      const r = spawnSync(process.execPath, ['--conditions=@mef/source', '--import', 'tsx', pathOf(e)], {
        cwd: pkg,
        env: env(),
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.stderr, `stderr of ${e.file}`).not.toMatch(/Error/);
      expect(r.status, `exit status of ${e.file}\n${r.stdout}\n${r.stderr}`).toBe(0);
    });
  }

  for (const e of examples.filter((x) => x.test)) {
    it(`${e.doc}:${e.line} (${e.file}) passes as a test file`, () => {
      const r = spawnSync(
        bin('vitest'),
        ['run', '--root', join(out, slug(e.doc)), '--config', join(out, 'vitest.config.mjs'), e.file],
        { cwd: pkg, env: env(), encoding: 'utf8', timeout: 170_000 },
      );
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/Tests\s+.*\d+ passed/);
      expect(r.stdout).not.toMatch(/failed/);
    });
  }
});
