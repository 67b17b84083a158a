import { readFile } from 'node:fs/promises';

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
