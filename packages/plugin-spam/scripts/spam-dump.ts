/**
 * Dumps what the learned scores of the time split are fitted on, so the model can be studied
 * without re-extracting (scripts/misses.ts reads it): per training message its rule and
 * SpamAssassin hits and an out-of-fold Bayes probability (the folds `learnScores` uses), per
 * test message the same with the probability of a model learned on every training message.
 *
 *   npx tsx --conditions=@mef/source scripts/spam-dump.ts [--out /tmp/mef-spam-dump.json] [--tokens]
 *
 * With `--tokens`, each message also keeps its distinct Bayes token ids (`tokens`), for models
 * over the tokens themselves.
 *
 * SpamAssassin's hits are cached as scripts/cv.ts caches them (/tmp/mef-spam-cv-sa-hits.json).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BayesClassifier, messageDigest } from '../src/bayes/classifier.js';
import { MemoryStore } from '../src/bayes/memory-store.js';
import { tokenIds } from '../src/bayes/tokenizer.js';
import { createFeatureExtractor } from '../src/extract.js';
import { RuleSet } from '../src/rules/rule-set.js';
import { LEARNED_CLASSIFIER } from '../src/scores/learn.js';
import { corpusWithSaHits } from './sa-source.js';
import { TIME_TRAIN_FOLDERS } from './time-split.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: '/tmp/mef-spam-dump.json' },
    cache: { type: 'string', default: '/tmp/mef-spam-cv-sa-hits.json' },
    tokens: { type: 'boolean', default: false },
  },
});
const log = (s: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
const { messages, cache } = await corpusWithSaHits(values.cache, log);
log(`extracting ${messages.length} messages`);
const extractor = createFeatureExtractor();
const rules = new RuleSet();
const rows = [];
for (const m of messages) {
  const f = await extractor.extract(m.raw);
  const tokens = tokenIds(f);
  rows.push({
    id: m.id,
    folder: m.folder,
    label: m.label,
    train: TIME_TRAIN_FOLDERS.has(m.folder),
    tokens,
    digest: messageDigest(tokens),
    rules: rules.run(f).hits.map((h) => ({ name: h.name, score: h.score })),
    sa: cache[m.id] ?? [],
    shape: {
      bytes: m.raw.length,
      htmlOnly: f.html.length > 0 && !f.parts.some((p) => p.contentType === 'text/plain'),
      html: f.html.length,
      text: f.text.length,
      images: f.parts.filter((p) => p.contentType.startsWith('image/')).length,
      parts: f.parts.map((p) => p.contentType),
      subject: f.subject.slice(0, 80),
      from: String(f.headers.get('from') ?? '').slice(0, 60),
      charset: /charset="?([^";\s]+)/i.exec(String(f.headers.get('content-type') ?? ''))?.[1] ?? '',
    },
  });
}
await extractor.close();
const train = rows.filter((r) => r.train);
const folds = 5;
const fold = (r: { digest: string }) => Number.parseInt(r.digest.slice(0, 6), 16) % folds;
type Got = { p: number; s: number; h: number; used: number; rob: number | undefined } | undefined;
const prob = new Map<string, Got>();
const both = async (c: BayesClassifier, rob: BayesClassifier, tokens: number[]): Promise<Got> => {
  const r = await c.classify(tokens);
  if (!r) return undefined;
  const q = await rob.classify(tokens);
  return { p: r.probability, s: r.spamness, h: r.hamness, used: r.used, rob: q?.probability };
};
for (let k = 0; k < folds; k++) {
  log(`bayes fold ${k + 1}`);
  const c = new BayesClassifier(new MemoryStore(), { ...LEARNED_CLASSIFIER, minLearns: 50 });
  for (const r of train) if (fold(r) !== k) await c.learn(r.tokens, r.label);
  const rob = new BayesClassifier(c.store, { ...LEARNED_CLASSIFIER, minLearns: 50, combine: 'robinson' });
  for (const r of train) if (fold(r) === k) prob.set(r.id, await both(c, rob, r.tokens));
}
log('bayes on every training message');
const all = new BayesClassifier(new MemoryStore(), { ...LEARNED_CLASSIFIER, minLearns: 200 });
for (const r of train) await all.learn(r.tokens, r.label);
const allRob = new BayesClassifier(all.store, { ...LEARNED_CLASSIFIER, minLearns: 200, combine: 'robinson' });
for (const r of rows) if (!r.train) prob.set(r.id, await both(all, allRob, r.tokens));
const out = rows.map(({ tokens, ...r }) => ({
  ...r,
  ...(values.tokens ? { tokens: [...new Set(tokens)] } : {}),
  fold: fold(r),
  p: prob.get(r.id)?.p ?? null,
  bayes: prob.get(r.id) ?? null,
}));
writeFileSync(values.out, JSON.stringify(out));
log(`written to ${values.out}`);
