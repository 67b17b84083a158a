/**
 * The recorded hits of the native SpamAssassin rule set (see `sa-hits.ts`): one line per
 * message, `NAME` or `NAME*count`, names sorted, and a digest of the rule files used.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The Debian package's rule files, which the hits are recorded from (not sa-update's). */
export const DEBIAN_RULES = '/usr/share/spamassassin';

/** The recorded fixture. */
export interface SaHitsFixture {
  /** SHA-256 of the `*.cf` files' names and contents, in name order. */
  readonly rules: string;
  /** Every Nth corpus message was recorded. */
  readonly every: number;
  /** `folder/id` to the message's hit line. */
  readonly hits: Readonly<Record<string, string>>;
}

/** One message's hits as one line: names sorted, a count above 1 after `*`. */
export function hitLine(all: ReadonlyMap<string, number>): string {
  return [...all]
    .filter(([, n]) => n > 0)
    .map(([name, n]) => (n > 1 ? `${name}*${n}` : name))
    .sort()
    .join(' ');
}

/** Digest of the rule files of `dir`, to tell recorded hits of other rules apart. */
export function rulesDigest(dir: string): string {
  const h = createHash('sha256');
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith('.cf'))
    .sort()) {
    h.update(f);
    h.update(readFileSync(join(dir, f)));
  }
  return h.digest('hex');
}
