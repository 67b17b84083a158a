import { BayesClassifier } from '../src/bayes/classifier.js';
import { MemoryStore } from '../src/bayes/memory-store.js';
import { tokenize } from '../src/bayes/tokenizer.js';
import { corpusDir, isTraining, loadCorpus } from './corpus.js';
import { featuresWithMailparser } from './extract-mailparser.js';

const dir = corpusDir();
if (!dir) throw new Error('corpus missing');
const t0 = Date.now();
const all = await loadCorpus(dir);
const window = Number(process.env.WINDOW ?? 2);
const toks = [];
for (const m of all) toks.push({ m, tokens: tokenize(await featuresWithMailparser(m.raw), { window }) });
console.log('parsed', all.length, Date.now() - t0, 'ms');
const store = new MemoryStore();
const c = new BayesClassifier(store, { combine: (process.env.COMBINE ?? 'chi2') as 'chi2', maxDiscriminators: Number(process.env.MAXD ?? 150), strength: Number(process.env.S ?? 0.45) });
for (const { m, tokens } of toks) if (isTraining(m.id, Number(process.env.SHARE ?? 0.6))) await c.learn(tokens, m.label);
console.log('learned', await store.totals(), 'tokens', store.size);
const probs: { label: string; p: number; id: string; folder: string }[] = [];
for (const { m, tokens } of toks) {
  if (isTraining(m.id, Number(process.env.SHARE ?? 0.6))) continue;
  const r = await c.classify(tokens);
  probs.push({ label: m.label, p: r?.probability ?? 0.5, id: m.id, folder: m.folder });
}
for (const th of [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]) {
  const spam = probs.filter((p) => p.label === 'spam');
  const ham = probs.filter((p) => p.label === 'ham');
  const tp = spam.filter((p) => p.p >= th).length;
  const fp = ham.filter((p) => p.p >= th).length;
  console.log(th, 'recall', (tp / spam.length).toFixed(4), 'fpr', (fp / ham.length).toFixed(4), fp, ham.length, spam.length);
}
const fps = probs.filter((p) => p.label === 'ham' && p.p >= 0.9).map((p) => `${p.folder}/${p.id} ${p.p.toFixed(3)}`);

