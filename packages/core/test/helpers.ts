import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const corpusDir = join(here, 'fixtures', 'corpus');
export const sharedCorpusDir = join(here, '..', '..', '..', '..', 'shared', 'corpus', 'mime');

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.eml')) out.push(p);
  }
  return out;
}

/** Every corpus message: the project's copy, plus any in ../shared that the copy lacks. */
export function corpusFiles(): { name: string; path: string }[] {
  const own = walk(corpusDir).map((p) => ({ name: relative(corpusDir, p), path: p }));
  const names = new Set(own.map((f) => f.name));
  let shared: { name: string; path: string }[] = [];
  try {
    shared = walk(sharedCorpusDir)
      .map((p) => ({ name: relative(sharedCorpusDir, p), path: p }))
      .filter((f) => !names.has(f.name));
  } catch {
    // No ../shared in a user's fresh clone: the project's copy is the corpus.
  }
  return [...own, ...shared];
}
