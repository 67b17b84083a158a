/**
 * Chooses the learned-scores settings without looking at the test sets: nested
 * cross-validation on the 2002 training sets of the time split (easy-ham-1, hard-ham-1,
 * spam-1), then, once per candidate, the time split itself as the report.
 *
 *   pnpm --filter @mef/plugin-spam cv                      # every candidate, CV then time split
 *   pnpm --filter @mef/plugin-spam cv --only base,grey --no-time   # CV only
 *   pnpm --filter @mef/plugin-spam cv --only base,grey --no-cv     # the time split only
 *
 * Outer folds (5, by a digest of the file name) each hold out a fifth of the training
 * messages; `learnScores` runs on the other four fifths exactly as `mef train --scores` would
 * (its own inner folds place the threshold), and the held-out fifth is scored as
 * `mef scan --scores` scores it. The pooled figures over the five held-out fifths are the CV
 * figures; "worst fold" is the largest share of ham flagged in one fifth; "recall at 0.5%"
 * is the spam caught in each fifth at the best threshold that flags at most 0.5% of its ham
 * (an oracle: it measures ranking, not threshold placement).
 *
 * SpamAssassin's rule hits are the costly part and do not depend on the candidates: they are
 * cached in `--cache` (default /tmp/mef-spam-cv-sa-hits.json), keyed by file name.
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { decide, defaultThresholds, type SymbolHit } from '@mef/core';
import { type CorpusMessage, isTraining } from '@mef/test-servers/corpus';
import { createFeatureExtractor } from '../src/extract.js';
import type { MessageFeatures } from '../src/features.js';
import { bayes } from '../src/plugins/bayes-plugin.js';
import { RuleSet } from '../src/rules/rule-set.js';
import { type LearnScoresOptions, learnScores } from '../src/scores/learn.js';
import type { LearnedScores } from '../src/scores/scores-file.js';
import { CANDIDATES, type Candidate } from './cv-candidates.js';
import { corpusWithSaHits } from './sa-source.js';
import { TIME_TRAIN_FOLDERS } from './time-split.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    'no-time': { type: 'boolean', default: false },
    'no-cv': { type: 'boolean', default: false },
    cache: { type: 'string', default: '/tmp/mef-spam-cv-sa-hits.json' },
    folds: { type: 'string', default: '5' },
    'rival-share': { type: 'string', default: '0.25' },
  },
});
const log = (s: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

interface Item {
  readonly m: CorpusMessage;
  readonly f: MessageFeatures;
  /** SpamAssassin symbols hit, with the rule file's own score. */
  readonly sa: readonly { name: string; score: number }[];
}

const { messages, cache } = await corpusWithSaHits(values.cache, log);
log(`extracting ${messages.length} messages`);
const extractor = createFeatureExtractor();
const items: Item[] = [];
for (const m of messages) items.push({ m, f: await extractor.extract(m.raw), sa: cache[m.id] ?? [] });
await extractor.close();
const train = items.filter((x) => TIME_TRAIN_FOLDERS.has(x.m.folder));
const test = items.filter((x) => !TIME_TRAIN_FOLDERS.has(x.m.folder));
const rivalShare = Number(values['rival-share']);
const folds = Number(values.folds);
const outerFold = (x: Item) =>
  Number.parseInt(createHash('sha256').update(`outer:${x.m.id}`).digest('hex').slice(0, 8), 16) % folds;

/** Scores messages as `mef scan --scores` does, with a Bayes model learned on `learnFrom`. */
async function scorer(scores: LearnedScores, learnFrom: readonly Item[], c: Candidate) {
  const plain = bayes({ minLearns: 50, ...(c.tokenizer ? { tokenizer: c.tokenizer } : {}) });
  await plain.train(learnFrom.map((x) => ({ message: x.f, label: x.m.label })));
  const known = new Set(new RuleSet().rules.map((r) => r.name));
  const rules = new RuleSet({
    scores: Object.fromEntries(Object.entries(scores.rules).filter(([n]) => known.has(n))),
  });
  const b = bayes({
    ...scores.classifier,
    minLearns: 50,
    store: plain.classifier.store,
    bands: scores.bayes,
    ...(c.tokenizer ? { tokenizer: c.tokenizer } : {}),
  });
  return async (x: Item): Promise<number> => {
    const symbols: SymbolHit[] = rules
      .run(x.f)
      .hits.map((h) => ({ name: h.name, score: h.score, stage: 'spam-rules' }));
    const r = await b.check(x.f);
    if (r.symbol) symbols.push({ name: r.symbol.name, score: r.symbol.score, stage: 'bayes' });
    for (const h of x.sa) symbols.push({ name: h.name, score: scores.rules[h.name] ?? h.score, stage: 'sa' });
    for (const name of c.extraHits?.(x.f) ?? []) {
      symbols.push({ name, score: scores.rules[name] ?? 0, stage: 'extra' });
    }
    return decide({ symbols, forced: [], errors: [], mutations: [] }).score.value;
  };
}

function learn(from: readonly Item[], c: Candidate): Promise<LearnedScores> {
  const options: LearnScoresOptions = { ...c.options, ...(c.tokenizer ? { tokenizer: c.tokenizer } : {}) };
  return learnScores(
    from.map((x) => ({
      features: x.f,
      label: x.m.label,
      extraHits: [...x.sa.map((h) => h.name), ...(c.extraHits?.(x.f) ?? [])],
    })),
    options,
  );
}

interface Tally {
  spam: number;
  ham: number;
  caught: number;
  flagged: number;
  caught6: number;
  flagged6: number;
}
const tally = (): Tally => ({ spam: 0, ham: 0, caught: 0, flagged: 0, caught6: 0, flagged6: 0 });
function add(t: Tally, label: 'spam' | 'ham', score: number): void {
  const grey = defaultThresholds.greylist ?? 4;
  const tag = defaultThresholds.addHeader ?? 6;
  if (label === 'spam') {
    t.spam++;
    if (score >= grey) t.caught++;
    if (score >= tag) t.caught6++;
  } else {
    t.ham++;
    if (score >= grey) t.flagged++;
    if (score >= tag) t.flagged6++;
  }
}
const pct = (a: number, b: number) => `${((a / Math.max(b, 1)) * 100).toFixed(2)}%`;
function line(t: Tally): string {
  const p = t.caught / Math.max(t.caught + t.flagged, 1);
  const r = t.caught / Math.max(t.spam, 1);
  const f1 = (2 * p * r) / Math.max(p + r, 1e-9);
  return `>=4: ${pct(t.caught, t.spam)} spam (${t.caught}/${t.spam}), ${pct(t.flagged, t.ham)} ham (${t.flagged}/${t.ham}), F1 ${f1.toFixed(3)}; >=6: ${pct(t.caught6, t.spam)} spam, ${pct(t.flagged6, t.ham)} ham (${t.flagged6})`;
}
/** Spam caught at the best threshold that flags at most `rate` of the ham. */
function recallAt(scored: readonly { label: string; s: number }[], rate: number): number {
  const ham = scored
    .filter((x) => x.label === 'ham')
    .map((x) => x.s)
    .sort((a, b) => b - a);
  const cut = (ham[Math.floor(rate * ham.length)] ?? Number.NEGATIVE_INFINITY) + 1e-9;
  const spam = scored.filter((x) => x.label === 'spam');
  return spam.filter((x) => x.s >= cut).length / Math.max(spam.length, 1);
}

const only = values.only ? new Set(values.only.split(',')) : undefined;
for (const c of CANDIDATES.filter((c) => !only || only.has(c.name))) {
  const t0 = performance.now();
  const cv = tally();
  const worst: number[] = [];
  const oracle: number[] = [];
  const fpIds: string[] = [];
  let near = 0;
  let nearList = 0;
  let listHam = 0;
  for (let k = 0; k < (values['no-cv'] ? 0 : folds); k++) {
    const inner = train.filter((x) => outerFold(x) !== k);
    const held = train.filter((x) => outerFold(x) === k);
    const scores = await learn(inner, c);
    const score = await scorer(scores, inner, c);
    const t = tally();
    const scored: { label: string; s: number }[] = [];
    for (const x of held) {
      const s = await score(x);
      add(t, x.m.label, s);
      add(cv, x.m.label, s);
      scored.push({ label: x.m.label, s });
      if (x.m.label === 'ham' && s >= 4) fpIds.push(`${x.m.folder}/${x.m.id}`);
      const list = x.m.label === 'ham' && x.f.headers.get('list-id') !== undefined;
      if (list) listHam++;
      if (x.m.label === 'ham' && s >= 3) {
        near++;
        if (list) nearList++;
      }
    }
    worst.push(t.flagged / Math.max(t.ham, 1));
    oracle.push(recallAt(scored, 0.005));
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / Math.max(a.length, 1);
  console.log(`\n## ${c.name}: ${c.description}`);
  if (!values['no-cv']) console.log(`CV (${folds} outer folds, nested): ${line(cv)}`);
  if (!values['no-cv']) {
    console.log(
      `CV worst fold ham flagged >=4: ${(Math.max(...worst) * 100).toFixed(2)}%; per fold ${worst.map((w) => (w * 100).toFixed(2)).join(', ')}`,
    );
    console.log(`CV recall at 0.5% ham (oracle, mean of folds): ${(mean(oracle) * 100).toFixed(2)}%`);
    console.log(`CV ham at >= 3 (near the line): ${near}, of them with List-Id ${nearList} (of ${listHam})`);
    console.log(`CV ham flagged: ${fpIds.join(' ')}`);
  }
  if (!values['no-time']) {
    const scores = await learn(train, c);
    const score = await scorer(scores, train, c);
    const whole = tally();
    const share = tally();
    const fps: string[] = [];
    for (const x of test) {
      const s = await score(x);
      add(whole, x.m.label, s);
      if (isTraining(x.m.id, rivalShare)) add(share, x.m.label, s);
      if (x.m.label === 'ham' && s >= 4) fps.push(x.m.id);
    }
    console.log(
      `time split, inner validation: ${scores.validation.caught}/${scores.validation.spam} spam, ${scores.validation.hamFlagged}/${scores.validation.ham} ham`,
    );
    console.log(`time split, whole test: ${line(whole)}`);
    console.log(`time split, rivals' share: ${line(share)}`);
    console.log(`time split ham flagged: ${fps.join(' ')}`);
  }
  log(`${c.name} took ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
