import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One TypeScript example found in a Markdown file. */
export interface DocExample {
  /** The Markdown file, relative to the repository root. */
  readonly doc: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** File name: the fence's `file=NAME` or `example-N.ts` (`.test.ts` when it imports vitest). */
  readonly file: string;
  readonly code: string;
  /** True when it imports what it uses (it has import lines): then it is compiled and run. */
  readonly complete: boolean;
  /** True when it is a test file (imports vitest): it is run by vitest. */
  readonly test: boolean;
}

/** The Markdown files whose examples are checked: README.md, docs/, and each package's and example's README. */
export function docFiles(root: string): string[] {
  const out = ['README.md'];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(root, dir)).sort()) {
      const rel = join(dir, name);
      if (rel === join('docs', 'api')) continue;
      if (statSync(join(root, rel)).isDirectory()) walk(rel);
      else if (name.endsWith('.md')) out.push(rel);
    }
  };
  walk('docs');
  for (const top of ['packages', 'examples', 'bench']) {
    const dirs = top === 'bench' ? [''] : readdirSync(join(root, top)).sort();
    for (const d of dirs) {
      const readme = join(top, d, 'README.md');
      try {
        if (statSync(join(root, readme)).isFile()) out.push(readme);
      } catch {
        /* a folder without a README */
      }
    }
  }
  return out.map((f) => relative(root, join(root, f)));
}

/** The ```ts blocks of a Markdown text (fences at the start of a line; indented ones are fragments in lists). */
export function extractExamples(doc: string, text: string): DocExample[] {
  const out: DocExample[] = [];
  const lines = text.split('\n');
  let n = 0;
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript)(?:\s+(.*))?$/.exec(lines[i] as string);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i] as string);
    const code = `${body.join('\n')}\n`;
    n++;
    const test = /^import .* from 'vitest';$/m.test(code);
    const named = /(?:^|\s)file=(\S+)/.exec(open[2] ?? '')?.[1];
    out.push({
      doc,
      line: start + 1,
      file: named ?? `example-${n}${test ? '.test' : ''}.ts`,
      code,
      complete: /^import /m.test(code),
      test,
    });
  }
  return out;
}

/** A folder name for a Markdown file's examples. */
export function slug(doc: string): string {
  return doc
    .replace(/\.md$/, '')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .toLowerCase();
}

/** Every example of every checked Markdown file. */
export function allExamples(root: string): DocExample[] {
  return docFiles(root).flatMap((doc) => extractExamples(doc, readFileSync(join(root, doc), 'utf8')));
}
