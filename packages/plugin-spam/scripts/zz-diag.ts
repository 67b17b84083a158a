import { corpusDir, loadCorpus } from '@mef/test-servers/corpus';
import { BayesClassifier } from '../src/bayes/classifier.js';
import { MemoryStore } from '../src/bayes/memory-store.js';
import { tokenId, tokenIds, tokenize } from '../src/bayes/tokenizer.js';
import { createFeatureExtractor } from '../src/extract.js';
import { TIME_TRAIN_FOLDERS } from './time-split.js';

const opt = { listHeaders: process.env.LH === '1' };
const ids = process.argv.slice(2);
const messages = await loadCorpus(corpusDir() as string);
const ex = createFeatureExtractor();
const c = new BayesClassifier(new MemoryStore(), { strength: 0.1, maxDiscriminators: 1000 });
for (const m of messages.filter((m) => TIME_TRAIN_FOLDERS.has(m.folder)))
  await c.learn(tokenIds(await ex.extract(m.raw), opt), m.label);
for (const m of messages.filter((m) => ids.some((i) => m.id.startsWith(i)))) {
  const f = await ex.extract(m.raw);
  const names = new Map(tokenize(f, opt).map((t) => [tokenId(t), t]));
  const r = await c.classify(tokenIds(f, opt));
  const counts = await c.store.counts(r!.top.map((t) => t.token));
  console.log(m.folder, m.id, 'p=', r?.probability.toFixed(4), 'used', r?.used, 'textlen', f.text.length);
  r!.top.forEach((t, i) =>
    console.log('   ', names.get(t.token as number) ?? '(pair)', t.p.toFixed(3), counts[i]),
  );
}
await ex.close();
