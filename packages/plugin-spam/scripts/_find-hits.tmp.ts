import { corpusDir, loadCorpus } from '@mef/test-servers/corpus';
import { installedSaRulesDir, loadSaRules } from '../src/sa/load.js';

const want = new Set(process.argv.slice(2));
const rules = loadSaRules({ dirs: [installedSaRulesDir() as string] });
console.log(
  'loaded',
  [...want].map((w) => rules.rules.some((r) => r.name === w)),
);
const TRAIN = new Set(['easy-ham-1', 'hard-ham-1', 'spam-1']);
let i = 0;
const msgs = (await loadCorpus(corpusDir() as string)).filter((m) => TRAIN.has(m.folder) && i++ % 2 === 0);
for (const m of msgs) {
  const hits = rules
    .check(m.raw)
    .hits.map((h) => h.name)
    .filter((n) => want.has(n));
  if (hits.length) console.log(`${m.folder}/${m.id}`, hits.join(' '));
}
