import { readFile, rename, writeFile } from 'node:fs/promises';
import { SpamError } from '../errors.js';
import { IdTable } from './id-table.js';
import {
  type BayesStore,
  dayOf,
  type ExpireOptions,
  type Label,
  type LearnOutcome,
  type StoreTotals,
  type Token,
  type TokenCounts,
} from './store.js';

/** Version 3 dates every token; version 2 files (no dates) still load, dated the day they load. */
const FORMAT = 'mef-bayes/3';
const FORMAT_V2 = 'mef-bayes/2';

interface FileShape {
  format: string;
  totals: { spam: number; ham: number };
  /** digest -> 's' | 'h' */
  seen: Record<string, 's' | 'h'>;
  /** [token, spam, ham, day]: token ids stay numbers, readable tokens strings; day since 1970 (absent in version 2) */
  tokens: [Token, number, number, number?][];
}

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** The clock tokens are dated with, in ms since 1970. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The embedded store: counts in a Map, saved to and loaded from one JSON file. Saving
 * writes a temporary file and renames it, so a reader never sees half a model.
 */
export class MemoryStore implements BayesStore {
  /** Token ids (numbers) in a flat table; readable string tokens in a Map. */
  private readonly ids = new IdTable();
  private readonly tokenMap = new Map<string, [number, number, number]>();
  private readonly seen = new Map<string, Label>();
  private spamTotal = 0;
  private hamTotal = 0;
  private readonly now: () => number;

  constructor(options: MemoryStoreOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** Number of distinct tokens held. */
  get size(): number {
    return this.tokenMap.size + this.ids.live;
  }

  async counts(tokens: readonly Token[]): Promise<TokenCounts[]> {
    return this.countsSync(tokens);
  }

  /** The synchronous form of `counts`, for hot paths and tests. */
  countsSync(tokens: readonly Token[]): TokenCounts[] {
    return tokens.map((t) => {
      const c = typeof t === 'number' ? this.ids.lookup(t) : this.tokenMap.get(t);
      return c ? { spam: c[0], ham: c[1] } : { spam: 0, ham: 0 };
    });
  }

  /** Counts into two arrays (no object per token): the classifier's hot path. */
  countsInto(tokens: readonly Token[], spam: Float64Array, ham: Float64Array): void {
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i] as Token;
      const c = typeof t === 'number' ? this.ids.lookup(t) : this.tokenMap.get(t);
      spam[i] = c ? c[0] : 0;
      ham[i] = c ? c[1] : 0;
    }
  }

  async totals(): Promise<StoreTotals> {
    return { spam: this.spamTotal, ham: this.hamTotal };
  }

  async learn(digest: string, tokens: readonly Token[], label: Label): Promise<LearnOutcome> {
    const before = this.seen.get(digest);
    if (before === label) return 'duplicate';
    if (before !== undefined) this.apply(tokens, before, -1);
    this.apply(tokens, label, 1);
    this.seen.set(digest, label);
    return before === undefined ? 'learned' : 'relearned';
  }

  async forget(digest: string, tokens: readonly Token[]): Promise<boolean> {
    const before = this.seen.get(digest);
    if (before === undefined) return false;
    this.apply(tokens, before, -1);
    this.seen.delete(digest);
    return true;
  }

  /**
   * Drops tokens no message was learned with for `maxAgeDays`, and hapaxes (tokens of one
   * message) after `hapaxMaxAgeDays`. Message totals stay. Returns how many tokens went.
   */
  async expire(options: ExpireOptions): Promise<number> {
    const today = dayOf(this.now());
    const cutoff = today - options.maxAgeDays;
    const hapaxCutoff = today - (options.hapaxMaxAgeDays ?? options.maxAgeDays);
    let dropped = this.ids.expire(cutoff, hapaxCutoff);
    for (const [t, c] of this.tokenMap) {
      if (c[2] < cutoff || (c[0] + c[1] === 1 && c[2] < hapaxCutoff)) {
        this.tokenMap.delete(t);
        dropped++;
      }
    }
    return dropped;
  }

  private apply(tokens: readonly Token[], label: Label, delta: 1 | -1): void {
    const i = label === 'spam' ? 0 : 1;
    const day = dayOf(this.now());
    for (const t of new Set(tokens)) {
      if (typeof t === 'number') {
        this.ids.add(t, label === 'spam', delta, day);
        continue;
      }
      let c = this.tokenMap.get(t);
      if (!c) {
        if (delta < 0) continue;
        c = [0, 0, day];
        this.tokenMap.set(t, c);
      }
      if (delta > 0) c[2] = Math.max(c[2], day);
      c[i] = Math.max(0, c[i] + delta);
      if (c[0] === 0 && c[1] === 0) this.tokenMap.delete(t);
    }
    if (label === 'spam') this.spamTotal = Math.max(0, this.spamTotal + delta);
    else this.hamTotal = Math.max(0, this.hamTotal + delta);
  }

  /** Writes the model to `path` (atomically, through a temporary file). */
  async save(path: string): Promise<void> {
    const data: FileShape = {
      format: FORMAT,
      totals: { spam: this.spamTotal, ham: this.hamTotal },
      seen: Object.fromEntries([...this.seen].map(([d, l]) => [d, l === 'spam' ? 's' : 'h'])),
      tokens: [
        ...this.ids.entries(),
        ...[...this.tokenMap].map(([t, c]): [Token, number, number, number] => [t, c[0], c[1], c[2]]),
      ],
    };
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(data));
    await rename(tmp, path);
  }

  /** Loads a model saved with `save`. A missing file gives an empty store when `missingOk`. */
  static async load(
    path: string,
    options: { missingOk?: boolean } & MemoryStoreOptions = {},
  ): Promise<MemoryStore> {
    const store = new MemoryStore(options.now ? { now: options.now } : {});
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (options.missingOk && (err as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw new SpamError('MEF_SPAM_BAYES_STORE', `Cannot read Bayes model ${path}`, { cause: err });
    }
    let data: FileShape;
    try {
      data = JSON.parse(text) as FileShape;
    } catch (err) {
      throw new SpamError('MEF_SPAM_BAYES_STORE', `Bayes model ${path} is not valid JSON`, { cause: err });
    }
    if (data.format !== FORMAT && data.format !== FORMAT_V2) {
      throw new SpamError(
        'MEF_SPAM_BAYES_STORE',
        `Bayes model ${path} has format ${String(data.format)}, expected ${FORMAT} (or ${FORMAT_V2}, read and dated today)`,
      );
    }
    const today = dayOf(store.now());
    store.spamTotal = data.totals.spam;
    store.hamTotal = data.totals.ham;
    for (const [d, l] of Object.entries(data.seen)) store.seen.set(d, l === 's' ? 'spam' : 'ham');
    for (const [t, sp, h, d] of data.tokens) {
      const day = typeof d === 'number' ? d : today;
      if (typeof t === 'number') {
        store.ids.add(t, true, sp, day);
        store.ids.add(t, false, h, day);
      } else store.tokenMap.set(t, [sp, h, day]);
    }
    return store;
  }
}
