import { BayesClassifier, type ClassifierOptions, messageDigest } from '../bayes/classifier.js';
import { MemoryStore } from '../bayes/memory-store.js';
import type { Label } from '../bayes/store.js';
import { type TokenizerOptions, tokenIds } from '../bayes/tokenizer.js';
import { SpamError } from '../errors.js';
import type { MessageFeatures } from '../features.js';
import { RuleSet } from '../rules/rule-set.js';
import { fitLogistic, type LogisticModel, type LogisticOptions, logit, type SparseRow } from './logistic.js';
import {
  type BayesBand,
  type LearnedScores,
  SCORES_FORMAT,
  type ScoredClassifier,
  type ScoresValidation,
} from './scores-file.js';

/**
 * The classifier settings learned scores use by default: a weaker prior and more tokens than
 * the plugin's defaults. They rank mail of a later year better (measured on the corpus's time
 * split) but place probabilities lower, so they need the fitted bands, not fixed thresholds.
 */
export const LEARNED_CLASSIFIER: ScoredClassifier = { strength: 0.1, maxDiscriminators: 1000 };

/** Where {@link learnScores} places the ham limit by default: the greylist threshold. */
const DEFAULT_SCORES_THRESHOLD = 4;

/**
 * The L2 penalties {@link learnScores} chooses from when none is given: the one whose
 * out-of-fold predictions have the smallest log-loss on the training messages (cross-validation
 * on the messages learned, nothing else).
 */
const L2_CHOICES: readonly number[] = [0.0001, 0.0003, 0.001, 0.003, 0.01];

/** Lower edges of the Bayes probability bands, as SpamAssassin's BAYES_00 ... BAYES_999. */
export const BAYES_BAND_EDGES: readonly number[] = [0, 0.01, 0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 0.99, 0.999];

/**
 * Where {@link learnScores} places the threshold: `holdout` fits the weights on most of the
 * messages and places it on the held-out share (`validationShare`); `folds` places it on
 * out-of-fold scores of every message and fits the weights on all of them.
 */
export type ThresholdPlacement = 'holdout' | 'folds';

/** One labelled message for {@link learnScores}. */
export interface ScoringItem {
  readonly features: MessageFeatures;
  readonly label: Label;
  /**
   * Symbols of other rule sources that hit this message, fitted beside the built-in rules:
   * what `spamassassinRuleSymbols` gives for SpamAssassin's rules run natively
   * (`mef train --sa-rules`).
   */
  readonly extraHits?: readonly string[];
}

/** Options of {@link learnScores}. */
export interface LearnScoresOptions {
  /** The rules whose scores are fitted. Default: the built-in rules. */
  readonly ruleSet?: RuleSet;
  /**
   * More rule hits by name for a message, fitted beside the rule set's (the hook for rule
   * sources other than the built-in rules, such as SpamAssassin's rule files run natively).
   */
  readonly extraRules?: (features: MessageFeatures) => readonly string[];
  /** Classifier settings of the Bayes model the scores are fitted for. Default {@link LEARNED_CLASSIFIER}. */
  readonly classifier?: ScoredClassifier & Pick<ClassifierOptions, 'minLearns'>;
  readonly tokenizer?: TokenizerOptions;
  /** Folds for the out-of-fold Bayes probabilities. Default 5. */
  readonly folds?: number;
  /** Share of the messages held out to place the threshold (placement `holdout`). Default 0.25. */
  readonly validationShare?: number;
  /** How the threshold is placed (see {@link ThresholdPlacement}). Default 'folds'. */
  readonly placement?: ThresholdPlacement;
  /**
   * Largest share of validation ham the threshold may flag. Default 0.004: a margin under the
   * 0.5% goal, chosen by nested cross-validation on the 2002 training sets (`scripts/cv.ts`) as
   * the largest of 0.5%, 0.4% and 0.3% whose held-out ham rate plus one standard error stays
   * within 0.5% (0.5% gave 0.47% +- 0.13% of held-out ham flagged, 0.4% gave 0.33% +- 0.11%).
   */
  readonly maxHamRate?: number;
  /**
   * The score the threshold is scaled to, where the ham limit holds: the greylist threshold (4)
   * by default, so the limit holds for every action (flagged means greylisted, tagged or
   * refused); 6, the add-header threshold, holds it for tagging only, and lets more ham reach
   * the greylist action (chosen by nested cross-validation on the training sets: at 6, 0.76%
   * of held-out ham scored 4 or more).
   */
  readonly threshold?: number;
  /**
   * Logistic regression settings. Without `l2`, the penalty is chosen from 0.0001, 0.0003,
   * 0.001, 0.003 and 0.01 by the log-loss of out-of-fold predictions on the messages given.
   */
  readonly logistic?: LogisticOptions;
  /** Called as the folds are learned, for progress output. */
  readonly onProgress?: (step: string) => void;
}

function bandOf(p: number): number {
  let band = 0;
  for (let i = 0; i < BAYES_BAND_EDGES.length; i++) if (p >= (BAYES_BAND_EDGES[i] as number)) band = i;
  return band;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/**
 * Fits the rule scores and the Bayes band scores together, by logistic regression, on
 * labelled messages:
 *
 * 1. every message gets a Bayes probability from a model that did not learn it (k folds);
 * 2. the weights are fitted k times more, each time without one fold, rule weights kept at 0
 *    or above, so every message gets a score from a model that did not learn it;
 * 3. the threshold is placed on those out-of-fold scores so that at most `maxHamRate` of the
 *    ham is flagged (all the ham, not a quarter of it: a steadier estimate of a small rate);
 * 4. the weights are fitted once more on every message, and scaled so that this threshold
 *    (carried over as a probability) is `threshold`.
 *
 * Unless `logistic.l2` is given, step 2 runs once per L2 penalty of 0.0001, 0.0003, 0.001,
 * 0.003 and 0.01, and the penalty whose out-of-fold predictions have the smallest log-loss is
 * kept for steps 3 and 4 (with `placement: 'holdout'`, chosen the same way on the fit share).
 *
 * With `placement: 'holdout'`, a share of the messages (chosen by a digest of the message) is
 * held out instead: the weights are fitted on the rest and the threshold placed on it.
 *
 * The result is what `mef train --scores` writes and `mef scan --scores` applies.
 */
export async function learnScores(
  items: readonly ScoringItem[],
  options: LearnScoresOptions = {},
): Promise<LearnedScores> {
  const folds = Math.max(2, Math.floor(options.folds ?? 5));
  const valShare = options.validationShare ?? 0.25;
  const maxHamRate = options.maxHamRate ?? 0.004;
  const threshold = options.threshold ?? DEFAULT_SCORES_THRESHOLD;
  const placement = options.placement ?? 'folds';
  const ruleSet = options.ruleSet ?? new RuleSet();
  const { minLearns: _, ...given } = options.classifier ?? {};
  const settings: ScoredClassifier = { ...LEARNED_CLASSIFIER, ...given };
  const names = new Map<string, number>();
  for (const r of ruleSet.rules) names.set(r.name, names.size);
  const tokens = items.map((it) => tokenIds(it.features, options.tokenizer));
  const digests = tokens.map((t) => messageDigest(t));
  const hits = items.map((it) => {
    const out = ruleSet.run(it.features).hits.map((h) => h.name);
    for (const n of [...(options.extraRules?.(it.features) ?? []), ...(it.extraHits ?? [])]) {
      if (!names.has(n)) names.set(n, names.size);
      out.push(n);
    }
    return [...new Set(out)].map((n) => names.get(n) as number);
  });
  const fold = digests.map((d) => Number.parseInt(d.slice(0, 6), 16) % folds);
  const isVal = digests.map((d) => Number.parseInt(d.slice(6, 10), 16) / 65536 < valShare);

  // Out-of-fold Bayes probabilities.
  const prob: (number | undefined)[] = new Array(items.length).fill(undefined);
  for (let k = 0; k < folds; k++) {
    options.onProgress?.(`bayes fold ${k + 1} of ${folds}`);
    const classifier = new BayesClassifier(new MemoryStore(), {
      ...settings,
      minLearns: Math.min(options.classifier?.minLearns ?? 200, 50),
    });
    for (let i = 0; i < items.length; i++) {
      if (fold[i] !== k) await classifier.learn(tokens[i] as number[], (items[i] as ScoringItem).label);
    }
    for (let i = 0; i < items.length; i++) {
      if (fold[i] === k) prob[i] = (await classifier.classify(tokens[i] as number[]))?.probability;
    }
  }

  const ruleCount = names.size;
  const features = ruleCount + BAYES_BAND_EDGES.length;
  const rows: SparseRow[] = items.map((it, i) => {
    const active = [...(hits[i] as number[])];
    const p = prob[i];
    // Cumulative encoding: feature j is "probability >= edge j". With the weights above band 0
    // kept at 0 or above, a band's score (the sum up to it) never falls as the probability rises.
    if (p !== undefined) for (let j = 0; j <= bandOf(p); j++) active.push(ruleCount + j);
    return { active, spam: it.label === 'spam' };
  });
  const fitRows = rows.filter((_, i) => !isVal[i]);
  const valRows = rows.filter((_, i) => isVal[i]);
  const lacking =
    placement === 'holdout'
      ? !fitRows.some((r) => r.spam) || !fitRows.some((r) => !r.spam) || !valRows.some((r) => !r.spam)
      : !rows.some((r) => r.spam) || !rows.some((r) => !r.spam);
  if (lacking) {
    throw new SpamError(
      'MEF_SPAM_SCORES',
      placement === 'holdout'
        ? 'learning scores needs spam and ham in both the fit and validation shares'
        : 'learning scores needs both spam and ham',
    );
  }
  options.onProgress?.('fitting weights');
  const nonNegative = new Set<number>();
  for (let i = 0; i < features; i++) if (i !== ruleCount) nonNegative.add(i);
  /** Out-of-fold logits of `subset` (indices into rows) under one penalty. */
  const outOfFold = (subset: readonly number[], l2: number): Map<number, number> => {
    const out = new Map<number, number>();
    for (let k = 0; k < folds; k++) {
      options.onProgress?.(`fitting weights, fold ${k + 1} of ${folds} (L2 ${l2})`);
      const m = fitLogistic(
        subset.filter((i) => fold[i] !== k).map((i) => rows[i] as SparseRow),
        features,
        { nonNegative, ...options.logistic, l2 },
      );
      for (const i of subset) if (fold[i] === k) out.set(i, logit(m, (rows[i] as SparseRow).active));
    }
    return out;
  };
  /** The penalty given, or the one of L2_CHOICES with the smallest out-of-fold log-loss. */
  const choose = (subset: readonly number[]): { l2: number; oof: Map<number, number> | undefined } => {
    if (options.logistic?.l2 !== undefined) return { l2: options.logistic.l2, oof: undefined };
    let best: { l2: number; oof: Map<number, number>; loss: number } | undefined;
    for (const l2 of L2_CHOICES) {
      const oof = outOfFold(subset, l2);
      let loss = 0;
      for (const [i, z] of oof) loss += Math.log1p(Math.exp((rows[i] as SparseRow).spam ? -z : z));
      if (!best || loss < best.loss) best = { l2, oof, loss };
    }
    const chosen = best as { l2: number; oof: Map<number, number> };
    options.onProgress?.(`L2 penalty ${chosen.l2} chosen by out-of-fold log-loss`);
    return chosen;
  };
  let l2 = options.logistic?.l2 ?? 0.01;
  const fit = (train: readonly SparseRow[]) =>
    fitLogistic(train, features, { nonNegative, ...options.logistic, l2 });
  let model: LogisticModel;
  let cut: number;
  let validation: ScoresValidation;
  if (placement === 'holdout') {
    l2 = choose(rows.flatMap((_, i) => (isVal[i] ? [] : [i]))).l2;
    model = fit(fitRows);
    // The threshold: just above the ham logit that would make the flagged share exceed the rate.
    const hamZ = valRows
      .filter((r) => !r.spam)
      .map((r) => logit(model, r.active))
      .sort((a, b) => b - a);
    cut = (hamZ[Math.floor(maxHamRate * hamZ.length)] as number) + 1e-6;
    validation = {
      spam: valRows.filter((r) => r.spam).length,
      ham: hamZ.length,
      caught: valRows.filter((r) => r.spam && logit(model, r.active) >= cut).length,
      hamFlagged: hamZ.filter((z) => z >= cut).length,
    };
  } else {
    // Every message is scored by a model that did not learn it (the Bayes folds again), so the
    // threshold is placed on all the ham rather than a quarter of it; the weights are then
    // fitted on every message, and the cut carried over as a probability.
    const every = rows.map((_, i) => i);
    const chosen = choose(every);
    l2 = chosen.l2;
    const byIndex = chosen.oof ?? outOfFold(every, l2);
    const oof = every.map((i) => byIndex.get(i) as number);
    const hamZ = oof.filter((_, i) => !(rows[i] as SparseRow).spam).sort((a, b) => b - a);
    const cutOof = (hamZ[Math.floor(maxHamRate * hamZ.length)] as number) + 1e-6;
    options.onProgress?.('fitting weights on every message');
    model = fit(rows);
    cut = cutOof;
    validation = {
      spam: rows.length - hamZ.length,
      ham: hamZ.length,
      caught: oof.filter((z, i) => (rows[i] as SparseRow).spam && z >= cutOof).length,
      hamFlagged: hamZ.filter((z) => z >= cutOof).length,
    };
  }
  if (cut - model.bias <= 0) {
    throw new SpamError(
      'MEF_SPAM_SCORES',
      'the fitted threshold would flag a message with no evidence at all',
    );
  }
  const scale = threshold / (cut - model.bias);
  const rules: Record<string, number> = {};
  for (const [name, i] of names) rules[name] = round3((model.weights[i] as number) * scale);
  let cumulative = 0;
  const bayes: BayesBand[] = BAYES_BAND_EDGES.map((from, j) => {
    cumulative += model.weights[ruleCount + j] as number;
    return { from, score: round3(cumulative * scale) };
  });
  return {
    format: SCORES_FORMAT,
    threshold,
    rules,
    bayes,
    classifier: settings,
    maxHamRate,
    trained: {
      spam: (placement === 'holdout' ? fitRows : rows).filter((r) => r.spam).length,
      ham: (placement === 'holdout' ? fitRows : rows).filter((r) => !r.spam).length,
    },
    validation,
  };
}
