import { createHash } from 'node:crypto';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import * as spam from '@mef/plugin-spam';
import { bayes, createFeatureExtractor, type MessageFeatures, type TrainingProgress } from '@mef/plugin-spam';
import { ConfigError } from './config.js';
import { type InputItem, inputs } from './input.js';

type Label = 'spam' | 'ham';

/** Counts regular files below the paths (the progress bar's total; each mbox counts once). */
async function countFiles(
  paths: readonly string[],
  extensions: readonly string[] | undefined,
): Promise<number> {
  let n = 0;
  const visit = async (p: string): Promise<void> => {
    const st = await stat(p).catch(() => undefined);
    if (st?.isDirectory()) {
      for (const name of await readdir(p).catch(() => [] as string[])) {
        const child = `${p}/${name}`;
        const cst = await stat(child).catch(() => undefined);
        if (cst?.isDirectory()) await visit(child);
        else if (cst?.isFile() && (!extensions || extensions.some((e) => name.endsWith(e)))) n++;
      }
    } else if (st?.isFile()) n++;
  };
  for (const p of paths) if (p !== '-') await visit(p);
  return n;
}

/** Whether a message is held out for `--eval`: a hash of its source, so every run picks the same. */
export function heldOut(source: string, share: number): boolean {
  const h = createHash('sha1').update(source).digest();
  return h.readUInt16BE(0) / 65536 < share;
}

/** Progress on a terminal (a bar redrawn in place) or as plain lines. */
class Progress {
  private last = 0;
  private lastLine = 0;
  constructor(
    private readonly tty: boolean,
    private readonly write: (s: string) => void,
    private readonly total: number,
  ) {}

  update(done: number, label: string, p: TrainingProgress | undefined, force = false): void {
    const now = Date.now();
    if (this.tty) {
      if (!force && now - this.last < 100) return;
      this.last = now;
      const width = 30;
      const frac = this.total > 0 ? Math.min(1, done / this.total) : 0;
      const fill = Math.round(frac * width);
      this.write(
        `\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${this.total} ${label}  learned ${p?.learned ?? 0}  duplicates ${p?.duplicates ?? 0}  failed ${p?.failed ?? 0}\x1b[K`,
      );
      if (force) this.write('\n');
      return;
    }
    if (force || done - this.lastLine >= 500) {
      this.lastLine = done;
      this.write(`progress: ${done}/${this.total} messages (${label}), learned ${p?.learned ?? 0}\n`);
    }
  }
}

export interface TrainRunOptions {
  readonly spam: readonly string[];
  readonly ham: readonly string[];
  readonly model: string;
  readonly redis?: string;
  /** Also fit the rule and Bayes scores on the trained messages and write them here. */
  readonly scores?: string;
  /**
   * SpamAssassin rule folders run natively on every trained message, so that `scores` fits
   * their weights too (for `mef scan --sa-rules DIR --scores FILE`). Needs `scores`.
   */
  readonly saRules?: readonly string[];
  /** Share held out for evaluation (0 < share < 1), or undefined to train on everything. */
  readonly evalShare?: number;
  readonly minLearns?: number;
  /** Inside directories, only files with these name endings. */
  readonly extensions?: readonly string[];
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  readonly tty: boolean;
}

/** The shared Redis store for `--redis`. */
function redisStore(url: string): spam.BayesStore {
  if (!/^rediss?:\/\//.test(url)) {
    throw new ConfigError(`--redis: expected a redis:// URL, found ${JSON.stringify(url)}`);
  }
  return new spam.RedisStore({ url });
}

interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

function fmt(n: number): string {
  return (n * 100).toFixed(2);
}

/** Fits the scores on the trained messages and writes them (`--scores`). */
async function writeScores(
  path: string,
  items: readonly spam.ScoringItem[],
  o: TrainRunOptions,
): Promise<void> {
  const t0 = performance.now();
  const learned = await spam.learnScores(items, {
    ...(o.minLearns !== undefined ? { classifier: { minLearns: o.minLearns } } : {}),
    onProgress: (step) => o.stderr(`scores: ${step}\n`),
  });
  await mkdir(dirname(path), { recursive: true });
  await spam.saveScores(path, learned);
  const v = learned.validation;
  o.stdout(
    `scores: fitted on ${learned.trained.spam} spam and ${learned.trained.ham} ham in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
      `scored out of fold, ${v.caught} of ${v.spam} spam caught, ${v.hamFlagged} of ${v.ham} ham flagged; written to ${path}\n`,
  );
}

/** `mef train`: learns the labelled messages; resolves with the exit code. */
export async function runTrain(o: TrainRunOptions): Promise<number> {
  if (o.saRules && !o.scores)
    throw new ConfigError('--sa-rules: fits rule scores, so it needs --scores FILE');
  const saRules = o.saRules ? spam.loadSaRules({ dirs: o.saRules }) : undefined;
  const store = o.redis ? redisStore(o.redis) : undefined;
  const plugin = bayes({
    ...(store ? { store } : { file: o.model }),
    ...(o.minLearns !== undefined ? { minLearns: o.minLearns } : {}),
  });
  if (!store) await mkdir(dirname(o.model), { recursive: true });
  await plugin.setup?.({ log: { debug() {}, info() {}, warn() {}, error() {} }, coreVersion: '' });
  // The same one-pass extraction the bayes() stage sees at scan time.
  const extractor = createFeatureExtractor();
  const extract = (stream: AsyncIterable<Buffer>) =>
    extractor.extract(stream instanceof Readable ? stream : Readable.from(stream, { objectMode: false }));
  const total = (await countFiles(o.spam, o.extensions)) + (await countFiles(o.ham, o.extensions));
  const progress = new Progress(o.tty, o.stderr, total);
  const held: { label: Label; features: MessageFeatures }[] = [];
  // Every trained message's features, when scores are fitted (they are learned from all of them).
  const forScores: spam.ScoringItem[] = [];
  let unreadable = 0;
  let done = 0;
  let current: Label = 'spam';
  let last: TrainingProgress | undefined;

  async function* items(): AsyncGenerator<{ message: InputItem; label: Label }> {
    for (const [label, paths] of [
      ['spam', o.spam],
      ['ham', o.ham],
    ] as const) {
      current = label;
      for await (const item of inputs(paths, o.extensions ? { extensions: o.extensions } : {})) {
        if (item.error !== undefined) {
          unreadable++;
          o.stderr(`${o.tty ? '\r\x1b[K' : ''}mef: ${item.source}: ${item.error}\n`);
          continue;
        }
        if (o.evalShare !== undefined && heldOut(item.source, o.evalShare)) {
          try {
            held.push({ label, features: await extract(item.stream) });
          } catch (err) {
            unreadable++;
            o.stderr(`mef: ${item.source}: ${(err as Error).message}\n`);
          }
          done++;
          progress.update(done, `${label}`, last);
          continue;
        }
        yield { message: item, label };
      }
    }
  }

  const t0 = performance.now();
  const result = await plugin.train(items(), {
    extract: async (item: InputItem) => {
      if (item.stream === undefined) throw new Error(item.error);
      if (!saRules) {
        const features = await extract(item.stream);
        if (o.scores) forScores.push({ label: current, features });
        return features;
      }
      // The native SpamAssassin rules read the whole message: hold it once for both.
      const chunks: Buffer[] = [];
      for await (const chunk of item.stream) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks);
      const features = await extract(Readable.from([raw]));
      forScores.push({ label: current, features, extraHits: spam.spamassassinRuleSymbols(saRules, raw) });
      return features;
    },
    onProgress: (p) => {
      last = p;
      done++;
      progress.update(done, current, p);
    },
  });
  progress.update(done, current, result, true);
  const ms = performance.now() - t0;
  await extractor.close();

  const totals = await plugin.classifier.store.totals();
  o.stdout(
    `trained ${result.learned} messages (${result.duplicates} duplicates, ${result.relearned} relearned, ${result.failed} failed) in ${(ms / 1000).toFixed(1)} s\n`,
  );
  o.stdout(`model: ${totals.spam} spam, ${totals.ham} ham`);
  if (!store) {
    await plugin.save(o.model);
    const size = (await stat(o.model)).size;
    const tokens = (plugin.classifier.store as spam.MemoryStore).size;
    o.stdout(`, ${tokens} tokens, ${(size / 1024 / 1024).toFixed(2)} MB at ${o.model}\n`);
  } else {
    o.stdout(` in Redis ${o.redis}\n`);
  }

  if (o.scores) await writeScores(o.scores, forScores, o);

  if (o.evalShare !== undefined) {
    const c: Confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };
    let untrained = 0;
    for (const h of held) {
      const { result: r, symbol } = await plugin.check(h.features);
      if (!r) untrained++;
      const marked = symbol?.name === 'BAYES_SPAM';
      if (h.label === 'spam') marked ? c.tp++ : c.fn++;
      else marked ? c.fp++ : c.tn++;
    }
    const precision = c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp);
    const recall = c.tp + c.fn === 0 ? 0 : c.tp / (c.tp + c.fn);
    const fpr = c.fp + c.tn === 0 ? 0 : c.fp / (c.fp + c.tn);
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    o.stdout(
      `evaluation on ${held.length} held-out messages (${c.tp + c.fn} spam, ${c.fp + c.tn} ham; share ${o.evalShare}):\n` +
        `  precision ${fmt(precision)}%  recall ${fmt(recall)}%  false-positive rate ${fmt(fpr)}%  F1 ${fmt(f1)}%\n` +
        `  true positives ${c.tp}, false positives ${c.fp}, false negatives ${c.fn}, true negatives ${c.tn}\n`,
    );
    if (untrained > 0) {
      o.stderr(
        `mef: the model has too few messages of each class to classify (${totals.spam} spam, ${totals.ham} ham; it needs ${plugin.classifier.minLearns} of each)\n`,
      );
    }
  }
  await plugin.teardown?.();
  return unreadable > 0 || result.failed > 0 ? 1 : 0;
}
