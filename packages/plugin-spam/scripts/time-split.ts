import { decide, defaultThresholds, type SymbolHit } from '@mef/core';
import type { CorpusMessage } from '@mef/test-servers/corpus';
import type { MessageFeatures } from '../src/features.js';
import { bayes } from '../src/plugins/bayes-plugin.js';
import { RuleSet } from '../src/rules/rule-set.js';
import { learnScores } from '../src/scores/learn.js';
import type { LearnedScores } from '../src/scores/scores-file.js';
import { type Figures, figures } from './evaluation.js';

/** The 2002 sets train; the later sets (easy-ham-2, spam-2) are tested. */
export const TIME_TRAIN_FOLDERS: ReadonlySet<string> = new Set(['easy-ham-1', 'hard-ham-1', 'spam-1']);

/**
 * A source of rule hits other than the built-in rules (SpamAssassin's rule files run natively,
 * issue 14 item 1). When given, the report gains its own row and its hits join the learned scores.
 */
export interface ExtraRuleSource {
  readonly name: string;
  /** Names of the rules that hit, and their own total score (its spam verdict at >= threshold). */
  run(features: MessageFeatures): { names: readonly string[]; score: number; threshold: number };
}

/** One system's figures on the test sets. */
export interface SystemRow {
  readonly name: string;
  readonly figures: Figures;
}

export interface TimeSplitResult {
  readonly trained: { readonly spam: number; readonly ham: number };
  readonly rows: readonly SystemRow[];
  readonly scores: LearnedScores;
  readonly seconds: number;
}

/**
 * Trains on the 2002 sets and tests on the later ones: built-in rules alone, Bayes alone, the
 * default combination (what `mef scan` does without a scores file), and everything with the
 * scores `learnScores` fits on the training sets (what `mef train --scores` writes).
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
  const withFeatures: { m: CorpusMessage; f: MessageFeatures }[] = [];
  log(`extracting ${messages.length} messages`);
  for (const m of messages) withFeatures.push({ m, f: await extract(m.raw) });
  const train = withFeatures.filter((x) => TIME_TRAIN_FOLDERS.has(x.m.folder));
  const test = withFeatures.filter((x) => !TIME_TRAIN_FOLDERS.has(x.m.folder));
  const extra = options.extra;

  log('learning scores');
  const scores = await learnScores(
    train.map((x) => ({ features: x.f, label: x.m.label })),
    {
      ...(extra ? { extraRules: (f: MessageFeatures) => extra.run(f).names } : {}),
      onProgress: log,
    },
  );
  log('training Bayes on the 2002 sets');
  const plain = bayes({ minLearns: 200 });
  await plain.train(train.map((x) => ({ message: x.f, label: x.m.label })));
  // The same model, classified with the settings the bands were fitted for.
  const learned = bayes({ ...scores.classifier, store: plain.classifier.store, bands: scores.bayes });
  const defaults = new RuleSet();
  const known = new Set(defaults.rules.map((r) => r.name));
  const ruleScores = Object.fromEntries(Object.entries(scores.rules).filter(([n]) => known.has(n)));
  const rescored = new RuleSet({ scores: ruleScores });
  const threshold = defaultThresholds.addHeader ?? 6;

  const marks: Record<string, { label: 'spam' | 'ham'; marked: boolean }[]> = {};
  const mark = (name: string, label: 'spam' | 'ham', marked: boolean) => {
    const list = marks[name] ?? [];
    list.push({ label, marked });
    marks[name] = list;
  };
  log(`testing on ${test.length} messages`);
  for (const { m, f } of test) {
    const ruleHits = defaults.run(f).hits;
    const ruleScore = ruleHits.reduce((a, h) => a + h.score, 0);
    mark('rules', m.label, ruleScore >= threshold);
    const b = await plain.check(f);
    mark('bayes', m.label, b.symbol?.name === 'BAYES_SPAM');
    const symbols: SymbolHit[] = ruleHits.map((h) => ({ name: h.name, score: h.score, stage: 'spam-rules' }));
    if (b.symbol) symbols.push({ name: b.symbol.name, score: b.symbol.score, stage: 'bayes' });
    // Flagged at the greylist threshold or above (4: deferred once, or tagged, or refused), as the
    // random-split figures count; the add-header figure (6: tagged X-Spam) is reported beside it.
    mark(
      'default',
      m.label,
      decide({ symbols, forced: [], errors: [], mutations: [] }).score.action !== 'no_action',
    );
    const learnedSymbols: SymbolHit[] = rescored
      .run(f)
      .hits.map((h) => ({ name: h.name, score: h.score, stage: 'spam-rules' }));
    const lb = await learned.check(f);
    if (lb.symbol) learnedSymbols.push({ name: lb.symbol.name, score: lb.symbol.score, stage: 'bayes' });
    if (extra) {
      const e = extra.run(f);
      mark('extra', m.label, e.score >= e.threshold);
      for (const n of e.names)
        learnedSymbols.push({ name: n, score: scores.rules[n] ?? 0, stage: 'sa-rules' });
    }
    const lv = decide({ symbols: learnedSymbols, forced: [], errors: [], mutations: [] });
    const learnedSpam = lv.score.action !== 'no_action';
    mark('learned', m.label, learnedSpam);
    mark('learnedTagged', m.label, lv.spam);
    if (options.subset?.(m)) mark('subset', m.label, learnedSpam);
  }
  const rows: SystemRow[] = [
    { name: 'MEF built-in rules (default scores, spam at >= 6)', figures: figures(marks.rules ?? []) },
    ...(extra ? [{ name: `MEF ${extra.name} (their own scores)`, figures: figures(marks.extra ?? []) }] : []),
    { name: 'MEF Bayes alone (`BAYES_SPAM`, probability >= 0.9)', figures: figures(marks.bayes ?? []) },
    {
      name: 'MEF rules + Bayes, default scores (`mef scan` without `--scores`), flagged at >= 4',
      figures: figures(marks.default ?? []),
    },
    {
      name: `MEF rules${extra ? ` + ${extra.name}` : ''} + Bayes, learned scores (\`mef train --scores\`, \`mef scan --scores\`), flagged at >= 4 (greylist or above)`,
      figures: figures(marks.learned ?? []),
    },
    {
      name: 'the same, tagged as spam only (>= 6, add header or reject)',
      figures: figures(marks.learnedTagged ?? []),
    },
    ...(options.subset
      ? [
          {
            name: "the same, on the rivals' share of the test messages",
            figures: figures(marks.subset ?? []),
          },
        ]
      : []),
  ];
  const totals = await plain.classifier.store.totals();
  return { trained: totals, rows, scores, seconds: (performance.now() - t0) / 1000 };
}
