/** Options of {@link missingReadmeExports}. */
export interface ReadmeApiOptions {
  /** The heading where the README's API section starts. Default `## API`. */
  readonly from?: string;
  /** The heading of the section after it. Default `## Options`. */
  readonly to?: string;
  /**
   * How the section names an export; the first group is the name. Default: the first cell of a
   * table row, `` | `name` ``.
   */
  readonly pattern?: RegExp;
}

/** The names the README's API section gives for exports (see {@link ReadmeApiOptions}). */
export function readmeApiNames(readme: string, options: ReadmeApiOptions = {}): string[] {
  const start = readme.indexOf(options.from ?? '## API');
  if (start < 0) throw new Error(`The README has no "${options.from ?? '## API'}" heading`);
  const end = readme.indexOf(options.to ?? '## Options', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const pattern = new RegExp(options.pattern ?? /^\| `([A-Za-z_]+)`/gm, 'gm');
  return [...section.matchAll(pattern)].map((m) => m[1] as string);
}

/**
 * The names a README's API section documents that the package's entry does not export (empty
 * when the README is right). Pass the imported module as `api`: `await import('../src/index.js')`.
 */
export function missingReadmeExports(
  readme: string,
  api: Readonly<Record<string, unknown>>,
  options: ReadmeApiOptions = {},
): string[] {
  return readmeApiNames(readme, options).filter((name) => !Object.hasOwn(api, name));
}
