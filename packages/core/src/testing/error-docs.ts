import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestApi } from './stream-suite.js';

/** What {@link compareErrorDocs} found; every list empty means the page and the code agree. */
export interface ErrorDocsDifferences {
  /** Codes the package defines that the table does not list. */
  readonly undocumented: string[];
  /** Codes the table lists that the package does not define. */
  readonly unknown: string[];
  /** Codes whose meaning in the table is not the meaning in the code table, as `CODE: "page" ≠ "code"`. */
  readonly mismatched: string[];
}

/**
 * Reads the table of codes under `## <section>` in an errors page (`| \`CODE\` | meaning |`,
 * padded or not)
 * and compares it with a package's code table: the same codes, each with the same meaning.
 */
export async function compareErrorDocs(
  pagePath: string,
  section: string,
  codes: Readonly<Record<string, string>>,
): Promise<ErrorDocsDifferences> {
  const page = await readFile(pagePath, 'utf8');
  const start = page.indexOf(`## ${section}\n`);
  if (start === -1) return { undocumented: Object.keys(codes), unknown: [], mismatched: [] };
  const next = page.indexOf('\n## ', start + 3);
  const body = page.slice(start, next === -1 ? undefined : next);
  const rows = new Map(
    [...body.matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|(.*)\|\s*$/gm)].map((m) => [m[1]!, m[2]!.trim()] as const),
  );
  return {
    undocumented: Object.keys(codes).filter((c) => !rows.has(c)),
    unknown: [...rows.keys()].filter((c) => !(c in codes)),
    mismatched: [...rows]
      .filter(([c, meaning]) => c in codes && codes[c] !== meaning)
      .map(([c, meaning]) => `${c}: ${JSON.stringify(meaning)} ≠ ${JSON.stringify(codes[c])}`),
  };
}

/**
 * The codes a package's source names (`MEF_RBL_…` literals in every `.ts` file below `srcDir`)
 * that its code table does not define. `prefix` is the package's code prefix, such as `MEF_RBL_`.
 */
export async function undefinedSourceCodes(
  srcDir: string,
  prefix: string,
  codes: Readonly<Record<string, string>>,
): Promise<string[]> {
  const files = (await readdir(srcDir, { recursive: true })).filter((f) => f.endsWith('.ts'));
  const named = new Set<string>();
  const pattern = new RegExp(`\\b${prefix}[A-Z0-9_]*[A-Z0-9]\\b`, 'g');
  for (const f of files) {
    for (const m of (await readFile(join(srcDir, f), 'utf8')).matchAll(pattern)) named.add(m[0]);
  }
  return [...named].filter((c) => !(c in codes)).sort();
}

/** Options of {@link errorDocsSuite}. */
export interface ErrorDocsOptions {
  /** The package's code table (`coreErrorCodes`, `rblErrorCodes`...): code → one-line meaning. */
  readonly codes: Readonly<Record<string, string>>;
  /**
   * The package folder, such as `new URL('..', import.meta.url)` from its `test/` folder. The
   * errors page is `docs/reference/errors.md` two folders above it; the source is its `src/`.
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
  const { undocumented, unknown, mismatched } = await compareErrorDocs(page, section, codes);
  if (undocumented.length || unknown.length || mismatched.length) {
    throw new Error(
      `${page} (## ${section}) and the code table disagree: ` +
        `not documented: ${undocumented.join(', ') || 'none'}; ` +
        `documented but not defined: ${unknown.join(', ') || 'none'}; ` +
        `meaning differs: ${mismatched.join('; ') || 'none'}`,
    );
  }
}

/** `MEF_RBL_` for codes `MEF_RBL_TIMEOUT`, `MEF_RBL_UNAVAILABLE`...: the first two words and `_`. */
function codePrefix(codes: Readonly<Record<string, string>>): string {
  const prefixes = new Set(Object.keys(codes).map((c) => /^[A-Z0-9]+_[A-Z0-9]+_/.exec(c)?.[0] ?? c));
  if (prefixes.size !== 1) {
    throw new Error(`the codes do not share one prefix such as MEF_PKG_: ${[...prefixes].join(', ')}`);
  }
  return [...prefixes][0]!;
}

/**
 * The error-code check every package runs, in one line:
 * - `docs/reference/errors.md` lists exactly the package's codes under `## <package name>`,
 *   each with the meaning the code table gives it;
 * - so does the `## Errors` table of its README (unless `readme: false`);
 * - every code of the package's prefix (`MEF_RBL_…`) that its `src/` names is in the code
 *   table, so no code is thrown or recorded without being documented.
 *
 * ```ts
 * errorDocsSuite({ describe, it }, '@mef/plugin-rbl', { codes: rblErrorCodes, packageDir: new URL('..', import.meta.url) });
 * ```
 */
export function errorDocsSuite(api: TestApi, packageName: string, options: ErrorDocsOptions): void {
  const dir = typeof options.packageDir === 'string' ? options.packageDir : fileURLToPath(options.packageDir);
  api.describe(`${packageName}: error codes`, () => {
    api.it('docs/reference/errors.md lists exactly the codes the package defines, with their meaning', () =>
      expectAgreement(join(dir, '..', '..', 'docs', 'reference', 'errors.md'), packageName, options.codes),
    );
    if (options.readme !== false) {
      api.it('the README lists every code with its meaning, and no code that does not exist', () =>
        expectAgreement(join(dir, 'README.md'), 'Errors', options.codes),
      );
    }
    api.it('every code the source names is defined and documented', async () => {
      const missing = await undefinedSourceCodes(join(dir, 'src'), codePrefix(options.codes), options.codes);
      if (missing.length) {
        throw new Error(`${join(dir, 'src')} names codes the code table lacks: ${missing.join(', ')}`);
      }
    });
  });
}
