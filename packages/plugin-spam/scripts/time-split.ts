import { decide, defaultThresholds, type SymbolHit } from '@mef/core';
import type { CorpusMessage } from '@mef/test-servers/corpus';
import type { MessageFeatures } from '../src/features.js';
import { type BayesPlugin, bayes } from '../src/plugins/bayes-plugin.js';
import { RuleSet } from '../src/rules/rule-set.js';
import { learnScores } from '../src/scores/learn.js';
import type { LearnedScores } from '../src/scores/scores-file.js';
import { type Figures, figures } from './evaluation.js';

/** The 2002 sets train; the later sets (easy-ham-2, spam-2) are tested. */
export const TIME_TRAIN_FOLDERS: ReadonlySet<string> = new Set(['easy-ham-1', 'hard-ham-1', 'spam-1']);

/** What a rule source found in one message. */
export interface ExtraRuleHits {
  /** The symbols that hit, with the source's own score for each. */
  readonly hits: readonly { readonly name: string; readonly score: number }[];
  /** Their total: the source's own verdict is spam at `threshold` or above. */
  readonly score: number;
  readonly threshold: number;
}

/**
 * A source of rule hits other than the built-in rules (SpamAssassin's rule files run natively:
 * `saRuleSource` in scripts/sa-source.ts). When given, the report gains its own row, and a
 * second set of learned scores is fitted with its hits beside the built-in rules and Bayes.
 */
export interface ExtraRuleSource {
  readonly name: string;
  run(raw: Buffer): ExtraRuleHits;
}

/** Which figures a row holds. */
export type RowKey =
  | 'rules'
  | 'extra'
  | 'bayes'
  | 'default'
  | 'learned'
  | 'learnedTagged'
  | 'learnedSubset'
  | 'all'
  | 'allTagged'
  | 'allSubset'
  | 'allAt6'
  | 'allAt6Subset';

/** One system's figures on the test sets. */
export interface SystemRow {
  readonly key: RowKey;
  readonly name: string;
  readonly figures: Figures;
}

export interface TimeSplitResult {
  readonly trained: { readonly spam: number; readonly ham: number };
  readonly rows: readonly SystemRow[];
  /** Learned on the built-in rules and Bayes. */
  readonly scores: LearnedScores;
  /** Learned on the built-in rules, the extra source's hits and Bayes (with `extra` only). */
  readonly allScores: LearnedScores | undefined;
  /**
   * The same, with the ham limit placed at the add-header threshold (6) as before (with `extra`
   * only): what the default placement at the greylist threshold is compared with.
   */
  readonly at6Scores: LearnedScores | undefined;
  readonly seconds: number;
}

interface Item {
  readonly m: CorpusMessage;
  readonly f: MessageFeatures;
  readonly e: ExtraRuleHits | undefined;
}

/** A set of learned scores applied as `mef scan --scores` applies them. */
interface Scored {
  readonly scores: LearnedScores;
  readonly rules: RuleSet;
  readonly bayes: BayesPlugin;
}

async function learned(
  train: readonly Item[],
  plain: BayesPlugin,
  withExtra: boolean,
  log: (s: string) => void,
  placed?: { threshold: number; maxHamRate: number },
): Promise<Scored> {
  const scores = await learnScores(
    train.map((x) => ({
      features: x.f,
      label: x.m.label,
      ...(withExtra && x.e ? { extraHits: x.e.hits.map((h) => h.name) } : {}),
    })),
    { onProgress: log, ...placed },
  );
  const known = new Set(new RuleSet().rules.map((r) => r.name));
  const ruleScores = Object.fromEntries(Object.entries(scores.rules).filter(([n]) => known.has(n)));
  // The same Bayes model, classified with the settings the bands were fitted for.
  return {
    scores,
    rules: new RuleSet({ scores: ruleScores }),
    bayes: bayes({ ...scores.classifier, store: plain.classifier.store, bands: scores.bayes }),
  };
}

/** The symbols of one message under learned scores; an extra hit not fitted keeps its own score. */
async function learnedSymbols(s: Scored, x: Item, withExtra: boolean): Promise<SymbolHit[]> {
  const out: SymbolHit[] = s.rules
    .run(x.f)
    .hits.map((h) => ({ name: h.name, score: h.score, stage: 'spam-rules' }));
  const b = await s.bayes.check(x.f);
  if (b.symbol) out.push({ name: b.symbol.name, score: b.symbol.score, stage: 'bayes' });
  if (withExtra && x.e) {
    for (const h of x.e.hits)
      out.push({ name: h.name, score: s.scores.rules[h.name] ?? h.score, stage: 'extra' });
  }
  return out;
}

/**
 * Trains on the 2002 sets and tests on the later ones: built-in rules alone, the extra rule
 * source alone (its own scores), Bayes alone, the default combination (what `mef scan` does
 * without a scores file), and everything with the scores `learnScores` fits on the training
 * sets (what `mef train --scores` writes): once on the built-in rules and Bayes, and, with an
 * extra source, once more with its hits too (`mef train --sa-rules DIR --scores`).
 */
export async function evaluateTimeSplit(
  messages: readonly CorpusMessage[],
  extract: (raw: Buffer) => Promise<MessageFeatures>,
  options: {
    extra?: ExtraRuleSource;
    log?: (s: string) => void;
    /** Also report the learned scores on this subset of the test messages (where the rivals ran). */
    subset?: (m: CorpusMessage) => boolean;
  } = {},
): Promise<TimeSplitResult> {
  const t0 = performance.now();
  const log = options.log ?? (() => undefined);
  const extra = options.extra;
  const items: Item[] = [];
  log(`extracting ${messages.length} messages${extra ? ` and running ${extra.name} on them` : ''}`);
  for (const m of messages) items.push({ m, f: await extract(m.raw), e: extra?.run(m.raw) });
  const train = items.filter((x) => TIME_TRAIN_FOLDERS.has(x.m.folder));
  const test = items.filter((x) => !TIME_TRAIN_FOLDERS.has(x.m.folder));

  log('training Bayes on the 2002 sets');
  const plain = bayes({ minLearns: 200 });
  await plain.train(train.map((x) => ({ message: x.f, label: x.m.label })));
  log('learning scores: built-in rules + Bayes');
  const base = await learned(train, plain, false, log);
  let all: Scored | undefined;
  let at6: Scored | undefined;
  if (extra) {
    log(`learning scores: built-in rules + ${extra.name} + Bayes`);
    all = await learned(train, plain, true, log);
    log(`learning scores: built-in rules + ${extra.name} + Bayes, the ham limit at the add-header threshold`);
    at6 = await learned(train, plain, true, log, {
      threshold: defaultThresholds.addHeader ?? 6,
      maxHamRate: 0.005,
    });
  }
  const defaults = new RuleSet();
  const threshold = defaultThresholds.addHeader ?? 6;

  const marks = new Map<RowKey, { label: 'spam' | 'ham'; marked: boolean }[]>();
  const mark = (key: RowKey, label: 'spam' | 'ham', marked: boolean) => {
    const list = marks.get(key) ?? [];
    list.push({ label, marked });
    marks.set(key, list);
  };
  const verdict = (symbols: SymbolHit[]) => decide({ symbols, forced: [], errors: [], mutations: [] });
  log(`testing on ${test.length} messages`);
  for (const x of test) {
    const label = x.m.label;
    const ruleHits = defaults.run(x.f).hits;
    mark('rules', label, ruleHits.reduce((a, h) => a + h.score, 0) >= threshold);
    if (x.e) mark('extra', label, x.e.score >= x.e.threshold);
    const b = await plain.check(x.f);
    mark('bayes', label, b.symbol?.name === 'BAYES_SPAM');
    const symbols: SymbolHit[] = ruleHits.map((h) => ({ name: h.name, score: h.score, stage: 'spam-rules' }));
    if (b.symbol) symbols.push({ name: b.symbol.name, score: b.symbol.score, stage: 'bayes' });
    // Flagged at the greylist threshold or above (4: deferred once, or tagged, or refused), as the
    // random-split figures count; the add-header figure (6: tagged X-Spam) is reported beside it.
    mark('default', label, verdict(symbols).score.action !== 'no_action');
    const variants: [Scored, RowKey, RowKey | undefined, RowKey, boolean][] = [
      [base, 'learned', 'learnedTagged', 'learnedSubset', false],
      ...(all
        ? [[all, 'all', 'allTagged', 'allSubset', true] as [Scored, RowKey, RowKey, RowKey, boolean]]
        : []),
      ...(at6
        ? [[at6, 'allAt6', undefined, 'allAt6Subset', true] as [Scored, RowKey, undefined, RowKey, boolean]]
        : []),
    ];
    for (const [s, flagged, tagged, subset, withExtra] of variants) {
      const v = verdict(await learnedSymbols(s, x, withExtra));
      mark(flagged, label, v.score.action !== 'no_action');
      if (tagged) mark(tagged, label, v.spam);
      if (options.subset?.(x.m)) mark(subset, label, v.score.action !== 'no_action');
    }
  }
  const row = (key: RowKey, name: string): SystemRow[] =>
    marks.has(key) ? [{ key, name, figures: figures(marks.get(key) ?? []) }] : [];
  const learnedName = (what: string) =>
    `MEF ${what}, learned scores (\`mef train --scores\`, \`mef scan --scores\`), flagged at >= 4 (greylist or above)`;
  const rows: SystemRow[] = [
    ...row('rules', 'MEF built-in rules (default scores, spam at >= 6)'),
    ...row(
      'extra',
      `MEF ${extra?.name ?? 'extra rules'} alone (their own scores, spam at >= ${test[0]?.e?.threshold ?? 5})`,
    ),
    ...row('bayes', 'MEF Bayes alone (`BAYES_SPAM`, probability >= 0.9)'),
    ...row('default', 'MEF rules + Bayes, default scores (`mef scan` without `--scores`), flagged at >= 4'),
    ...row('learned', learnedName('built-in rules + Bayes')),
    ...row('learnedTagged', 'the same, tagged as spam only (>= 6, add header or reject)'),
    ...row('learnedSubset', "the same, on the rivals' share of the test messages"),
    ...row('all', learnedName(`built-in rules + ${extra?.name ?? ''} + Bayes (everything together)`)),
    ...row('allTagged', 'the same, tagged as spam only (>= 6, add header or reject)'),
    ...row('allSubset', "the same, on the rivals' share of the test messages"),
    ...row(
      'allAt6',
      'everything together, learned scores with the ham limit placed as before: 0.5% at the add-header threshold (6) instead of 0.4% at 4 (`learnScores` `threshold: 6, maxHamRate: 0.005`), flagged at >= 4',
    ),
    ...row('allAt6Subset', "the same, on the rivals' share of the test messages"),
  ];
  const totals = await plain.classifier.store.totals();
  return {
    trained: totals,
    rows,
    scores: base.scores,
    allScores: all?.scores,
    at6Scores: at6?.scores,
    seconds: (performance.now() - t0) / 1000,
  };
}
