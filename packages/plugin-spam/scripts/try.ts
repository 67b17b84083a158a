import { createFeatureExtractor } from '../src/extract.js';
import { corpusDir, loadCorpus } from './corpus.js';
import { evaluate } from './evaluation.js';
import { featuresWithMailparser } from './extract-mailparser.js';

const all = await loadCorpus(corpusDir() as string);
const ex = createFeatureExtractor();
const t0 = Date.now();
const r = await evaluate(all, process.env.MP ? featuresWithMailparser : (raw) => ex.extract(raw), {
  trainShare: Number(process.env.SHARE ?? 0.7),
});
await ex.close();
const f = (x: { recall: number; fpRate: number; fp: number; precision: number }) =>
  `recall ${x.recall.toFixed(4)} fpr ${x.fpRate.toFixed(4)} (${x.fp}) prec ${x.precision.toFixed(4)}`;
console.log('bayes   ', f(r.bayes));
console.log('rules   ', f(r.rules));
console.log('combined', f(r.combined));
console.log(Date.now() - t0, 'ms');
console.log(r.falsePositives.join('\n'));
