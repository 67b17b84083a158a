/**
 * How often each built-in rule hits spam and ham of the SpamAssassin corpus: the figures the
 * default scores were chosen from. Run: npx tsx --conditions=@mef/source scripts/rule-stats.ts
 */

import { corpusDir, loadCorpus } from '@mef/test-servers/corpus';
import { createFeatureExtractor } from '../src/extract.js';
import { RuleSet } from '../src/rules/rule-set.js';

const ex = createFeatureExtractor();
const all = await loadCorpus(corpusDir() as string);
const rs = new RuleSet();
const stats = new Map<string, { spam: number; ham: number; hard: number }>();
let nspam = 0,
  nham = 0;
for (const m of all) {
  const f = await ex.extract(m.raw);
  m.label === 'spam' ? nspam++ : nham++;
  for (const h of rs.run(f).hits) {
    const s = stats.get(h.name) ?? { spam: 0, ham: 0, hard: 0 };
    if (m.label === 'spam') s.spam++;
    else {
      s.ham++;
      if (m.folder === 'hard-ham-1') s.hard++;
    }
    stats.set(h.name, s);
  }
}
for (const [n, s] of [...stats].sort())
  console.log(
    n.padEnd(24),
    'spam',
    ((s.spam / nspam) * 100).toFixed(1).padStart(5),
    '% ham',
    ((s.ham / nham) * 100).toFixed(1).padStart(5),
    '% hardham',
    s.hard,
  );
await ex.close();
