import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { coreErrorCodes, invalidOption, MefError } from '../src/index.js';
import { errorDocsSuite, type TestApi } from '../src/testing/index.js';

errorDocsSuite({ describe, it }, '@mef/core', {
  codes: coreErrorCodes,
  packageDir: new URL('..', import.meta.url),
  readme: false,
});

describe('error codes', () => {
  it('every error keeps its code and cause, and says how a stage failed', () => {
    const cause = new Error('socket closed');
    const e = new MefError('MEF_CORE_TIMEOUT', 'slow', { cause, kind: 'timeout' });
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('MEF_CORE_TIMEOUT');
    expect(e.cause).toBe(cause);
    expect(e.kind).toBe('timeout');
    expect(new MefError('MEF_CORE_STAGE_FAILED', 'bug').kind).toBe('exception');
  });

  it('invalidOption names the option and quotes the value', () => {
    const e = invalidOption('timeout', 'soon', 'a number of milliseconds');
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe('Invalid option timeout: expected a number of milliseconds, got "soon"');
    expect((e as TypeError & { code: string }).code).toBe('MEF_CORE_INVALID_OPTION');
  });
});

describe('errorDocsSuite', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  /** Lays out a repo with one package and runs the suite's checks; returns each check's error. */
  async function run(page: string, readme: string): Promise<(string | undefined)[]> {
    const root = await mkdtemp(join(tmpdir(), 'mef-error-docs-'));
    dirs.push(root);
    await mkdir(join(root, 'docs', 'reference'), { recursive: true });
    await mkdir(join(root, 'packages', 'x'), { recursive: true });
    await writeFile(join(root, 'docs', 'reference', 'errors.md'), page);
    await writeFile(join(root, 'packages', 'x', 'README.md'), readme);
    const checks: (() => Promise<void>)[] = [];
    const api: TestApi = { describe: (_n, fn) => fn(), it: (_n, fn) => void checks.push(fn) };
    errorDocsSuite(api, '@mef/x', {
      codes: { MEF_X_ONE: 'one', MEF_X_TWO: 'two' },
      packageDir: join(root, 'packages', 'x'),
    });
    return Promise.all(
      checks.map((c) =>
        c().then(
          () => undefined,
          (e: Error) => e.message,
        ),
      ),
    );
  }

  const table = (section: string, codes: string[]) =>
    `## ${section}\n\n| code | meaning |\n| --- | --- |\n${codes.map((c) => `| \`${c}\` | x |`).join('\n')}\n`;

  it('passes when the page and the README list exactly the codes', async () => {
    expect(
      await run(table('@mef/x', ['MEF_X_ONE', 'MEF_X_TWO']), table('Errors', ['MEF_X_ONE', 'MEF_X_TWO'])),
    ).toEqual([undefined, undefined]);
  });

  it('fails on a code the page misses and on a code the README names but the package lacks', async () => {
    const [page, readme] = await run(
      table('@mef/x', ['MEF_X_ONE']),
      table('Errors', ['MEF_X_ONE', 'MEF_X_TWO', 'MEF_X_GONE']),
    );
    expect(page).toMatch(/not documented: MEF_X_TWO/);
    expect(readme).toMatch(/documented but not defined: MEF_X_GONE/);
  });
});
