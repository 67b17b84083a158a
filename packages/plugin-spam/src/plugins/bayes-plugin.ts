import {
  checkErrorPolicy,
  checkNumber,
  checkString,
  definePlugin,
  type ErrorPolicy,
  invalidOption,
  type Plugin,
} from '@mef/core';
import { BayesClassifier, type Classification, type ClassifierOptions } from '../bayes/classifier.js';
import { MemoryStore } from '../bayes/memory-store.js';
import type { BayesStore } from '../bayes/store.js';
import { type TokenizerOptions, tokenIds } from '../bayes/tokenizer.js';
import { type TrainingItem, type TrainingProgress, type TrainOptions, train } from '../bayes/trainer.js';
import { collectFeatures } from '../collect.js';
import { CORE_RANGE } from '../core-range.js';
import { SpamError } from '../errors.js';
import type { MessageFeatures } from '../features.js';
import { type BayesBand, bandScore } from '../scores/scores-file.js';
import { round2 } from './common.js';

/** Options of {@link bayes}. */
export interface BayesOptions extends ClassifierOptions {
  /** Where the model lives. Default: a memory store, loaded from `file` at setup when given. */
  readonly store?: BayesStore;
  /** Model file of the embedded store: loaded at setup (missing is fine), written by `save()`. */
  readonly file?: string;
  /** Spam probability from which `BAYES_SPAM` is recorded. Default 0.9. */
  readonly spamThreshold?: number;
  /** Spam probability up to which `BAYES_HAM` is recorded. Default 0.1. */
  readonly hamThreshold?: number;
  /** Score of `BAYES_SPAM` at probability 1; it falls to half of it at the threshold. Default 5.5. */
  readonly spamScore?: number;
  /** Score of `BAYES_HAM` at probability 0 (negative); half of it at the threshold. Default -3. */
  readonly hamScore?: number;
  /**
   * Learned scores by probability band (from `mef train --scores`), instead of the graded
   * thresholds above: the band's score is recorded as `BAYES_SPAM` when positive, `BAYES_HAM`
   * when negative, nothing when 0.
   */
  readonly bands?: readonly BayesBand[];
  readonly tokenizer?: TokenizerOptions;
  readonly name?: string;
  readonly stageTimeout?: number;
  /** Default `accept`. */
  readonly onError?: ErrorPolicy;
}

/** The scores of one classification, as symbols. */
export interface BayesSymbol {
  readonly name: 'BAYES_SPAM' | 'BAYES_HAM';
  readonly score: number;
  readonly options: readonly string[];
}

/** The Bayes plugin: a plugin value with the classifier and the training API beside it. */
export interface BayesPlugin extends Plugin {
  readonly classifier: BayesClassifier;
  /** Classifies features directly (no engine), with the symbol it would record. */
  check(
    features: MessageFeatures,
  ): Promise<{ result: Classification | undefined; symbol: BayesSymbol | undefined }>;
  /** Learns labelled messages with progress; see {@link train}. */
  train<M = MessageFeatures>(
    items: Iterable<TrainingItem<M>> | AsyncIterable<TrainingItem<M>>,
    options?: TrainOptions<M>,
  ): Promise<TrainingProgress>;
  /** Writes the embedded store to `file` (or the path given). */
  save(path?: string): Promise<void>;
}

/** Maps a probability to the graded symbol, or undefined in the uncertain middle. */
export function bayesSymbol(
  p: number,
  o: { spamThreshold: number; hamThreshold: number; spamScore: number; hamScore: number },
): BayesSymbol | undefined {
  const pct = `${(p * 100).toFixed(2)}%`;
  if (p >= o.spamThreshold) {
    const grade = o.spamThreshold >= 1 ? 1 : (p - o.spamThreshold) / (1 - o.spamThreshold);
    return { name: 'BAYES_SPAM', score: round2(o.spamScore * (0.5 + 0.5 * grade)), options: [pct] };
  }
  if (p <= o.hamThreshold) {
    const grade = o.hamThreshold <= 0 ? 1 : (o.hamThreshold - p) / o.hamThreshold;
    return { name: 'BAYES_HAM', score: round2(o.hamScore * (0.5 + 0.5 * grade)), options: [pct] };
  }
  return undefined;
}

/** The Bayesian classifier as a plugin: records `BAYES_SPAM` or `BAYES_HAM` once trained. */
export function bayes(options: BayesOptions = {}): BayesPlugin {
  const file = checkString('file', options.file);
  if (
    options.store !== undefined &&
    (typeof options.store !== 'object' || typeof options.store.counts !== 'function')
  ) {
    throw invalidOption('store', options.store, 'a BayesStore (memory or Redis)');
  }
  const grading = {
    spamThreshold: checkNumber('spamThreshold', options.spamThreshold, { min: 0.5, max: 1 }) ?? 0.9,
    hamThreshold: checkNumber('hamThreshold', options.hamThreshold, { min: 0, max: 0.5 }) ?? 0.1,
    spamScore: checkNumber('spamScore', options.spamScore, { min: 0 }) ?? 5.5,
    hamScore: -Math.abs(checkNumber('hamScore', options.hamScore, { min: -1000, max: 1000 }) ?? -3),
  };
  checkNumber('minLearns', options.minLearns, { min: 0 });
  const bands = options.bands;
  if (
    bands !== undefined &&
    (!Array.isArray(bands) ||
      bands.some(
        (b, i) =>
          !Number.isFinite(b?.from) ||
          !Number.isFinite(b?.score) ||
          (i > 0 && b.from <= (bands[i - 1] as BayesBand).from),
      ))
  ) {
    throw invalidOption('bands', bands, 'bands { from, score } with from ascending');
  }
  const symbolOf = (p: number): BayesSymbol | undefined => {
    if (!bands) return bayesSymbol(p, grading);
    const score = round2(bandScore(bands, p));
    if (score === 0) return undefined;
    return { name: score > 0 ? 'BAYES_SPAM' : 'BAYES_HAM', score, options: [`${(p * 100).toFixed(2)}%`] };
  };
  const stageTimeout = checkNumber('stageTimeout', options.stageTimeout, { min: 1 });
  const onError = checkErrorPolicy('onError', options.onError) ?? 'accept';
  let store: BayesStore = options.store ?? new MemoryStore();
  let classifier = new BayesClassifier(store, options);
  let loaded = options.store !== undefined || file === undefined;

  const ensureLoaded = async () => {
    if (loaded) return;
    store = await MemoryStore.load(file as string, { missingOk: true });
    classifier = new BayesClassifier(store, options);
    loaded = true;
  };

  const check = async (features: MessageFeatures) => {
    await ensureLoaded();
    const result = await classifier.classify(tokenIds(features, options.tokenizer));
    return { result, symbol: result ? symbolOf(result.probability) : undefined };
  };

  return definePlugin({
    name: options.name ?? 'bayes',
    core: CORE_RANGE,
    onError,
    ...(stageTimeout !== undefined ? { stageTimeout } : {}),
    get classifier() {
      return classifier;
    },
    async setup() {
      await ensureLoaded();
    },
    async teardown() {
      await store.close?.();
    },
    async health() {
      try {
        const t = await store.totals();
        return { ok: true, detail: `learned ${t.spam} spam, ${t.ham} ham` };
      } catch (err) {
        return { ok: false, detail: String(err) };
      }
    },
    check,
    async train(items, trainOptions) {
      await ensureLoaded();
      return train(classifier, items, { tokenizer: options.tokenizer ?? {}, ...trainOptions });
    },
    async save(path) {
      const target = path ?? file;
      if (!target) throw invalidOption('file', target, 'a path (give `file` to bayes() or to save())');
      if (!(store instanceof MemoryStore)) {
        throw new SpamError('MEF_SPAM_BAYES_STORE', 'Only the embedded memory store is saved to a file');
      }
      await store.save(target);
    },
    async message(ctx) {
      const features = await collectFeatures(ctx);
      let out: Awaited<ReturnType<typeof check>>;
      try {
        out = await check(features);
      } catch (err) {
        ctx.findings.error('unavailable', 'MEF_SPAM_BAYES_STORE', `Bayes store failed: ${String(err)}`);
        return;
      }
      if (!out.result) {
        ctx.findings.symbol('BAYES_UNTRAINED', 0, { group: 'bayes' });
        return;
      }
      if (out.symbol) {
        ctx.findings.symbol(out.symbol.name, out.symbol.score, {
          group: 'bayes',
          options: out.symbol.options,
        });
      }
    },
  });
}
