import type { Readable } from 'node:stream';
import { createEngine, type Engine, type EngineOptions } from '@mef/core/hosts';
import { collectFeatures } from './collect.js';
import { CORE_RANGE } from './core-range.js';
import type { MessageFeatures } from './features.js';

/** Turns raw messages into features through the core engine's own one-pass views. */
export interface FeatureExtractor {
  extract(source: Buffer | string | Readable): Promise<MessageFeatures>;
  close(): Promise<void>;
}

/**
 * An extractor that runs a private engine with one capturing stage, so training and
 * evaluation see exactly the features the `bayes()` stage sees at scan time.
 */
export function createFeatureExtractor(options: Pick<EngineOptions, 'limits'> = {}): FeatureExtractor {
  let captured: MessageFeatures | undefined;
  let failure: unknown;
  const engine: Engine = createEngine({ ...options, onError: 'accept', spamHeaders: false }).use({
    name: 'mef-spam-features',
    core: CORE_RANGE,
    async message(ctx) {
      try {
        captured = await collectFeatures(ctx);
      } catch (err) {
        failure = err;
      }
    },
  });
  let queue: Promise<unknown> = Promise.resolve();
  return {
    extract(source) {
      // One message at a time: the capture slot is shared.
      const run = queue.then(async () => {
        captured = undefined;
        failure = undefined;
        await engine.scan(source, {
          clientAddress: '127.0.0.1',
          mailFrom: '',
          recipients: ['training@localhost'],
        });
        if (!captured) throw failure ?? new Error('the engine produced no features for this message');
        return captured;
      });
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      await queue;
      await engine.stop();
    },
  };
}
