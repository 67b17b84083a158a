import { createFeatureExtractor, type FeatureExtractor } from '../extract.js';
import type { MessageFeatures } from '../features.js';
import type { BayesClassifier } from './classifier.js';
import type { Label } from './store.js';
import { type TokenizerOptions, tokenIds } from './tokenizer.js';

/** One labelled message to learn: its features (from the core's views) or raw bytes with an extractor. */
export interface TrainingItem<M = MessageFeatures> {
  readonly message: M;
  readonly label: Label;
}

/** Progress of a training run, reported after every message. */
export interface TrainingProgress {
  /** Messages handled so far. */
  readonly done: number;
  /** Total, when the input's length is known. */
  readonly total: number | undefined;
  readonly learned: number;
  /** Already learned with the same label: counted once. */
  readonly duplicates: number;
  /** Learned before with the other label: moved. */
  readonly relearned: number;
  /** Messages whose extraction failed (skipped). */
  readonly failed: number;
}

/** Options of a training run. */
export interface TrainOptions<M> {
  /**
   * Turns an input message into features. Default: raw messages (Buffer or string) go through
   * a private engine (`createFeatureExtractor`), features are taken as they are.
   */
  readonly extract?: (message: M) => Promise<MessageFeatures> | MessageFeatures;
  readonly onProgress?: (progress: TrainingProgress) => void;
  readonly tokenizer?: TokenizerOptions;
  readonly signal?: AbortSignal;
}

/**
 * Learns labelled messages in order and reports progress after each. Learning the same
 * message twice counts once (the store keys messages by a digest of their tokens).
 */
export async function train<M = MessageFeatures>(
  classifier: BayesClassifier,
  items: Iterable<TrainingItem<M>> | AsyncIterable<TrainingItem<M>>,
  options: TrainOptions<M> = {},
): Promise<TrainingProgress> {
  const total = Array.isArray(items) ? items.length : undefined;
  let done = 0;
  let learned = 0;
  let duplicates = 0;
  let relearned = 0;
  let failed = 0;
  const snapshot = (): TrainingProgress => ({ done, total, learned, duplicates, relearned, failed });
  let own: FeatureExtractor | undefined;
  try {
    for await (const item of items) {
      options.signal?.throwIfAborted();
      let features: MessageFeatures;
      try {
        if (options.extract) features = await options.extract(item.message);
        else if (typeof item.message === 'string' || Buffer.isBuffer(item.message)) {
          own ??= createFeatureExtractor();
          features = await own.extract(item.message);
        } else features = item.message as unknown as MessageFeatures;
      } catch {
        failed++;
        done++;
        options.onProgress?.(snapshot());
        continue;
      }
      const outcome = await classifier.learn(tokenIds(features, options.tokenizer), item.label);
      if (outcome === 'learned') learned++;
      else if (outcome === 'duplicate') duplicates++;
      else relearned++;
      done++;
      options.onProgress?.(snapshot());
    }
  } finally {
    await own?.close();
  }
  return snapshot();
}
