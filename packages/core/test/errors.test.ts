import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { coreErrorCodes, invalidOption, MefError, mefErrorClass } from '../src/index.js';
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

describe('mefErrorClass', () => {
  it('makes a named MefError subclass with typed codes, its kind and extra fields', () => {
    const XError = mefErrorClass<'MEF_X_ONE' | 'MEF_X_TWO', { zone: string }>('XError', ['zone']);
    const cause = new Error('down');
    const e = new XError('MEF_X_ONE', 'no answer', { cause, kind: 'timeout', zone: 'zen.example' });
    expect(e).toBeInstanceOf(XError);
    expect(e).toBeInstanceOf(MefError);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: 'XError', code: 'MEF_X_ONE', message: 'no answer', kind: 'timeout' });
    expect(e.zone).toBe('zen.example');
    expect(e.cause).toBe(cause);
    expect(XError.name).toBe('XError');
    expect(String(e.stack)).toMatch(/^XError: no answer/);
    const plain = new XError('MEF_X_TWO', 'bug');
    expect(plain.kind).toBe('exception');
    expect(plain.zone).toBeUndefined();
    expect(new MefError('MEF_X_ONE', 'other')).not.toBeInstanceOf(XError);
  });
});

describe('errorDocsSuite', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  const codes = { MEF_X_ONE: 'one', MEF_X_TWO: 'two' };

  /**
   * Lays out a repo with one package (errors page, README, one source file) and runs the
   * suite's checks; returns each check's error message, or undefined where it passed.
   */
  async function run(page: string, readme: string, source: string): Promise<(string | undefined)[]> {
    const root = await mkdtemp(join(tmpdir(), 'mef-error-docs-'));
    dirs.push(root);
    await mkdir(join(root, 'docs', 'reference'), { recursive: true });
    await mkdir(join(root, 'packages', 'x', 'src', 'deep'), { recursive: true });
    await writeFile(join(root, 'docs', 'reference', 'errors.md'), page);
    await writeFile(join(root, 'packages', 'x', 'README.md'), readme);
    await writeFile(join(root, 'packages', 'x', 'src', 'deep', 'client.ts'), source);
    const checks: (() => Promise<void>)[] = [];
    const api: TestApi = { describe: (_n, fn) => fn(), it: (_n, fn) => void checks.push(fn) };
    errorDocsSuite(api, '@mef/x', { codes, packageDir: join(root, 'packages', 'x') });
    return Promise.all(
      checks.map((c) =>
        c().then(
          () => undefined,
          (e: Error) => e.message,
        ),
      ),
    );
  }

  const table = (section: string, rows: Record<string, string>) =>
    `## ${section}\n\n| code | meaning |\n| --- | --- |\n${Object.entries(rows)
      .map(([c, m]) => `| \`${c}\` | ${m} |`)
      .join('\n')}\n\n## Next\n\n| \`MEF_Y_OTHER\` | not ours |\n`;
  const goodSource = "throw new XError('MEF_X_ONE', 'no'); // MEF_X_TWO, and the symbol X_ONE\n";

  it('passes when the page and the README list exactly the codes with their meaning', async () => {
    expect(await run(table('@mef/x', codes), table('Errors', codes), goodSource)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('fails on a missing code, an unknown code, a changed meaning and a code only the source names', async () => {
    const [page, readme, source] = await run(
      table('@mef/x', { MEF_X_ONE: 'one' }),
      table('Errors', { MEF_X_ONE: 'one, but reworded', MEF_X_TWO: 'two', MEF_X_GONE: 'gone' }),
      `${goodSource}fail('MEF_X_NEW', \`MEF_X_\${kind}\`);\n`,
    );
    expect(page).toMatch(/not documented: MEF_X_TWO;/);
    expect(page).toMatch(/documented but not defined: none; meaning differs: none/);
    expect(readme).toMatch(/not documented: none; documented but not defined: MEF_X_GONE;/);
    expect(readme).toMatch(/meaning differs: MEF_X_ONE: "one, but reworded" ≠ "one"/);
    expect(source).toMatch(/names codes the code table lacks: MEF_X_NEW$/);
  });
});
