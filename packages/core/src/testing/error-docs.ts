import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestApi } from './stream-suite.js';

/**
 * Reads the table of codes under `## <section>` in an errors page (`| \`CODE\` | meaning |`)
 * and compares it with a package's code table. Returns the differences; both lists empty
 * means the page and the code agree.
 */
export async function compareErrorDocs(
  pagePath: string,
  section: string,
  codes: Readonly<Record<string, string>>,
): Promise<{ undocumented: string[]; unknown: string[] }> {
  const page = await readFile(pagePath, 'utf8');
  const start = page.indexOf(`## ${section}\n`);
  if (start === -1) return { undocumented: Object.keys(codes), unknown: [] };
  const next = page.indexOf('\n## ', start + 3);
  const body = page.slice(start, next === -1 ? undefined : next);
  const documented = [...body.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]!);
  return {
    undocumented: Object.keys(codes).filter((c) => !documented.includes(c)),
    unknown: documented.filter((c) => !(c in codes)),
  };
}

/** Options of {@link errorDocsSuite}. */
export interface ErrorDocsOptions {
  /** The package's code table (`coreErrorCodes`, `rblErrorCodes`...). */
  readonly codes: Readonly<Record<string, string>>;
  /**
   * The package folder, such as `new URL('..', import.meta.url)` from its `test/` folder. The
   * errors page is `docs/reference/errors.md` two folders above it.
   */
  readonly packageDir: string | URL;
  /** Also check the `## Errors` table of the package README. Default true. */
  readonly readme?: boolean;
}

async function expectAgreement(
  page: string,
  section: string,
  codes: Readonly<Record<string, string>>,
): Promise<void> {
  const { undocumented, unknown } = await compareErrorDocs(page, section, codes);
  if (undocumented.length || unknown.length) {
    throw new Error(
      `${page} (## ${section}) and the code table disagree: ` +
        `not documented: ${undocumented.join(', ') || 'none'}; documented but not defined: ${unknown.join(', ') || 'none'}`,
    );
  }
}

/**
 * The errors-page check every package runs, in one line: `docs/reference/errors.md` lists
 * exactly the package's codes under `## <package name>`, and (unless `readme: false`) so does
 * the `## Errors` table of its README.
 *
 * ```ts
 * errorDocsSuite({ describe, it }, '@mef/plugin-rbl', { codes: rblErrorCodes, packageDir: new URL('..', import.meta.url) });
 * ```
 */
export function errorDocsSuite(api: TestApi, packageName: string, options: ErrorDocsOptions): void {
  const dir = typeof options.packageDir === 'string' ? options.packageDir : fileURLToPath(options.packageDir);
  api.describe(`${packageName}: error codes`, () => {
    api.it('docs/reference/errors.md lists exactly the codes the package defines', () =>
      expectAgreement(join(dir, '..', '..', 'docs', 'reference', 'errors.md'), packageName, options.codes),
    );
    if (options.readme !== false) {
      api.it('the README lists every code, and no code that does not exist', () =>
        expectAgreement(join(dir, 'README.md'), 'Errors', options.codes),
      );
    }
  });
}
