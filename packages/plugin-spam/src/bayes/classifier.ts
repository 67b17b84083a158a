import { createHash } from 'node:crypto';
import type { BayesStore, Label, LearnOutcome, Token } from './store.js';

/** Options of the Robinson-Fisher (chi-square) combiner. */
export interface ClassifierOptions {
  /** Messages of EACH class that must be learned before the classifier speaks. Default 200. */
  readonly minLearns?: number;
  /**
   * Robinson's strength `s` of the prior for rare tokens. Default 0.45. Learned scores use 0.1
   * (see `LEARNED_CLASSIFIER`), which ranks later spam better but needs fitted bands.
   */
  readonly strength?: number;
  /** Robinson's prior `x` for an unseen token. Default 0.5. */
  readonly prior?: number;
  /** Tokens whose probability is closer to 0.5 than this are ignored. Default 0.1. */
  readonly minDeviation?: number;
  /** At most this many of the most telling tokens are combined. Default 300; learned scores use 1,000. */
  readonly maxDiscriminators?: number;
  /**
   * How token probabilities are combined: Fisher's chi-square (`chi2`, SpamBayes) or
   * Robinson's geometric mean (`robinson`, SpamAssassin before 3.0). Default `chi2`.
   */
  readonly combine?: 'chi2' | 'robinson';
  /**
   * Tokens seen in fewer learned messages than this are left out (2 drops hapaxes, the tokens
   * seen once). Default 1.
   */
  readonly minCount?: number;
}

/** The classifier's answer for one message. */
export interface Classification {
  /** Spam probability in [0, 1]: 1 certain spam, 0 certain ham, 0.5 no opinion. */
  readonly probability: number;
  /** Fisher's spam and ham indicators before they are combined. */
  readonly spamness: number;
  readonly hamness: number;
  /** Distinct tokens combined. */
  readonly used: number;
  /** The most telling tokens with their probability, for reports. */
  readonly top: readonly { readonly token: Token; readonly p: number }[];
}

/** Upper tail of the chi-square distribution with `v` (even) degrees of freedom. */
export function chi2Q(x2: number, v: number): number {
  const m = x2 / 2;
  let term = Math.exp(-m);
  let sum = term;
  for (let i = 1; i < v / 2; i++) {
    term *= m / i;
    sum += term;
  }
  return Math.min(sum, 1);
}

/** The digest under which a message is learned: distinct tokens, sorted, hashed. */
export function messageDigest(tokens: readonly Token[]): string {
  const h = createHash('sha256');
  const distinct = [...new Set(tokens)];
  const nums = (distinct.filter((t) => typeof t === 'number') as number[]).sort((a, b) => a - b);
  const strs = (distinct.filter((t) => typeof t === 'string') as string[]).sort();
  for (const t of nums) h.update(String(t)).update('\0');
  for (const t of strs) h.update(t).update('\0');
  return h.digest('hex').slice(0, 32);
}

/**
 * Distinct tokens. Ids (numbers) are deduplicated with a native numeric sort, which is much
 * cheaper than a Set of a few hundred doubles; the order is then ascending by id.
 */
function distinctTokens(tokens: readonly Token[]): Token[] {
  if (tokens.length === 0 || typeof tokens[0] !== 'number' || !tokens.every((t) => typeof t === 'number')) {
    return [...new Set(tokens)];
  }
  const sorted = Float64Array.from(tokens as readonly number[]).sort();
  const out: number[] = [];
  let last = Number.NaN;
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i] as number;
    if (v !== last) out.push(v);
    last = v;
  }
  return out;
}

/** The ten indices with the largest deviation, largest first (earlier index on ties). */
function topTen(indices: readonly number[], devs: Float64Array): number[] {
  const top: number[] = [];
  for (const i of indices) {
    const d = devs[i] as number;
    if (top.length === 10 && d <= (devs[top[9] as number] as number)) continue;
    let k = top.length < 10 ? top.length : 9;
    top[k] = i;
    while (k > 0 && (devs[top[k - 1] as number] as number) < d) {
      top[k] = top[k - 1] as number;
      top[k - 1] = i;
      k--;
    }
  }
  return top;
}

/**
 * A Bayesian classifier over a store: Robinson's per-token probability with a prior,
 * combined with Fisher's chi-square method (the SpamBayes and SpamAssassin way).
 */
export class BayesClassifier {
  readonly store: BayesStore;
  readonly minLearns: number;
  private readonly s: number;
  private readonly x: number;
  private readonly minDev: number;
  private readonly maxDisc: number;
  private readonly combine: 'chi2' | 'robinson';
  private readonly minCount: number;

  constructor(store: BayesStore, options: ClassifierOptions = {}) {
    this.store = store;
    this.minLearns = options.minLearns ?? 200;
    this.s = options.strength ?? 0.45;
    this.x = options.prior ?? 0.5;
    this.minDev = options.minDeviation ?? 0.1;
    this.maxDisc = options.maxDiscriminators ?? 300;
    this.combine = options.combine ?? 'chi2';
    this.minCount = options.minCount ?? 1;
  }

  /** Learns one tokenized message; the same message learned twice counts once. */
  learn(tokens: readonly Token[], label: Label): Promise<LearnOutcome> {
    const distinct = [...new Set(tokens)];
    return this.store.learn(messageDigest(distinct), distinct, label);
  }

  /** Forgets one tokenized message learned before. */
  forget(tokens: readonly Token[]): Promise<boolean> {
    const distinct = [...new Set(tokens)];
    return this.store.forget(messageDigest(distinct), distinct);
  }

  /** Whether enough messages of each class were learned for the classifier to speak. */
  async ready(): Promise<boolean> {
    const t = await this.store.totals();
    return t.spam >= this.minLearns && t.ham >= this.minLearns;
  }

  /** Classifies a tokenized message; `undefined` while too few messages were learned. */
  async classify(tokens: readonly Token[]): Promise<Classification | undefined> {
    const totals = await this.store.totals();
    if (totals.spam < this.minLearns || totals.ham < this.minLearns) return undefined;
    const distinct = distinctTokens(tokens);
    const n = distinct.length;
    const spamCounts = new Float64Array(n);
    const hamCounts = new Float64Array(n);
    // The embedded store answers synchronously into arrays: no promise, no object per token.
    if (this.store.countsInto) this.store.countsInto(distinct, spamCounts, hamCounts);
    else {
      const counts = await this.store.counts(distinct);
      for (let i = 0; i < n; i++) {
        spamCounts[i] = counts[i]?.spam ?? 0;
        hamCounts[i] = counts[i]?.ham ?? 0;
      }
    }
    const fs = new Float64Array(n);
    const devs = new Float64Array(n);
    const picked: number[] = [];
    const s = this.s;
    const sx = this.s * this.x;
    for (let i = 0; i < n; i++) {
      const cs = spamCounts[i] as number;
      const ch = hamCounts[i] as number;
      const total = cs + ch;
      if (total === 0 || total < this.minCount) continue;
      const sr = cs / totals.spam;
      const hr = ch / totals.ham;
      const p = sr / (sr + hr);
      const f = (sx + total * p) / (s + total);
      const dev = Math.abs(f - 0.5);
      if (dev >= this.minDev) {
        fs[i] = f;
        devs[i] = dev;
        picked.push(i);
      }
    }
    // The most telling `maxDisc` tokens: find the cut with a native numeric sort of the
    // deviations, then keep every token above it and, at the cut, the first ones in token
    // order, so the choice depends on nothing but the message.
    let used = picked;
    if (picked.length > this.maxDisc) {
      const sorted = new Float64Array(picked.length);
      for (let j = 0; j < picked.length; j++) sorted[j] = devs[picked[j] as number] as number;
      sorted.sort();
      const cut = sorted[picked.length - this.maxDisc] as number;
      let above = 0;
      for (let j = 0; j < picked.length; j++) if ((devs[picked[j] as number] as number) > cut) above++;
      let atCut = this.maxDisc - above;
      used = [];
      for (const i of picked) {
        const d = devs[i] as number;
        if (d > cut) used.push(i);
        else if (d === cut && atCut > 0) {
          used.push(i);
          atCut--;
        }
      }
    }
    if (used.length === 0) return { probability: 0.5, spamness: 0, hamness: 0, used: 0, top: [] };
    let lnHam = 0;
    let lnSpam = 0;
    for (const i of used) {
      const p = Math.min(Math.max(fs[i] as number, 1e-9), 1 - 1e-9);
      lnHam += Math.log(p);
      lnSpam += Math.log(1 - p);
    }
    let spamness: number;
    let hamness: number;
    let probability: number;
    if (this.combine === 'robinson') {
      spamness = 1 - Math.exp(lnSpam / used.length);
      hamness = 1 - Math.exp(lnHam / used.length);
      probability = spamness + hamness === 0 ? 0.5 : (1 + (spamness - hamness) / (spamness + hamness)) / 2;
    } else {
      const v = 2 * used.length;
      spamness = 1 - chi2Q(-2 * lnSpam, v);
      hamness = 1 - chi2Q(-2 * lnHam, v);
      probability = (spamness - hamness + 1) / 2;
    }
    return {
      probability,
      spamness,
      hamness,
      used: used.length,
      top: topTen(used, devs).map((i) => ({ token: distinct[i] as Token, p: fs[i] as number })),
    };
  }
}
