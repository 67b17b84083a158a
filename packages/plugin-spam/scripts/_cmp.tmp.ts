import { corpusDir, loadCorpus } from '@mef/test-servers/corpus';
import { installedSaRulesDir, loadSaRules } from '../src/sa/load.js';
import { spamdHitsOnce } from './sa-fidelity.js';

const want = process.argv.slice(2);
const rules = loadSaRules({ dirs: [installedSaRulesDir() as string] });
let i = 0;
const msgs = (await loadCorpus(corpusDir() as string)).filter((m) => (m.folder === 'spam-1' || m.folder === 'hard-ham-1') && i++ % 2 === 0);
const theirs = await spamdHitsOnce(msgs);
for (const w of want) {
  let both = 0,
    onlyUs = [],
    onlyThem = [];
  for (const m of msgs) {
    const key = `${m.folder}/${m.id}`;
    const a = rules.check(m.raw).hits.some((h) => h.name === w);
    const b = theirs.get(key)?.has(w) ?? false;
    if (a && b) both++;
    else if (a) onlyUs.push(key);
    else if (b) onlyThem.push(key);
  }
  console.log(w, 'both', both, 'onlyUs', onlyUs, 'onlySpamd', onlyThem);
}
