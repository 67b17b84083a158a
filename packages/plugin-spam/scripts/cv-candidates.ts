/** The settings `scripts/cv.ts` compares by cross-validation on the training sets. */
import type { TokenizerOptions } from '../src/bayes/tokenizer.js';
import type { MessageFeatures } from '../src/features.js';
import { RuleSet } from '../src/rules/rule-set.js';
import type { LearnScoresOptions } from '../src/scores/learn.js';

export interface Candidate {
  readonly name: string;
  readonly description: string;
  readonly options?: LearnScoresOptions;
  readonly tokenizer?: TokenizerOptions;
  /** More symbols fitted beside the rules (features under test). */
  readonly extraHits?: (f: MessageFeatures) => readonly string[];
}

export const CANDIDATES: readonly Candidate[] = [
  {
    name: 'base',
    description:
      'the previous defaults: the 0.5% limit at the add-header threshold (6), list headers tokenized',
    options: { threshold: 6, maxHamRate: 0.005 },
    tokenizer: { listHeaders: true },
  },
  {
    name: 'grey',
    description: 'the 0.5% limit placed at the greylist threshold (4)',
    options: { threshold: 4, maxHamRate: 0.005 },
    tokenizer: { listHeaders: true },
  },
  {
    name: 'grey-r4',
    description: 'the ham limit at the greylist threshold (4) with a margin: 0.4% of the out-of-fold ham',
    options: { threshold: 4, maxHamRate: 0.004 },
    tokenizer: { listHeaders: true },
  },
  {
    name: 'nolist',
    description: 'list headers not tokenized (tokenizer listHeaders: false), the limit at 6',
    options: { threshold: 6, maxHamRate: 0.005 },
    tokenizer: { listHeaders: false },
  },
  {
    name: 'sa-bayes',
    description: "the plugin's default prior strength (0.45) with SpamAssassin's 150 tokens",
    tokenizer: { listHeaders: true },
    options: { threshold: 6, maxHamRate: 0.005, classifier: { strength: 0.45, maxDiscriminators: 150 } },
  },
  {
    name: 'sa-chi',
    description:
      "SpamAssassin's chi-square constants (Bayes/CombineChi.pm): s 0.030, tokens nearer 0.5 than 0.346 ignored, 150 tokens",
    tokenizer: { listHeaders: true },
    options: {
      threshold: 6,
      maxHamRate: 0.005,
      classifier: { strength: 0.03, minDeviation: 0.346, maxDiscriminators: 150 },
    },
  },
  {
    name: 'md35',
    description: 'tokens nearer 0.5 than 0.346 ignored (minDeviation 0.346), learned settings otherwise',
    tokenizer: { listHeaders: true },
    options: { threshold: 6, maxHamRate: 0.005, classifier: { minDeviation: 0.346 } },
  },
  {
    name: 'md25',
    description: 'tokens nearer 0.5 than 0.25 ignored (minDeviation 0.25), learned settings otherwise',
    tokenizer: { listHeaders: true },
    options: { threshold: 6, maxHamRate: 0.005, classifier: { minDeviation: 0.25 } },
  },
  {
    name: 'mincount2',
    description: 'hapaxes left out (minCount 2)',
    tokenizer: { listHeaders: true },
    options: { threshold: 6, maxHamRate: 0.005, classifier: { minCount: 2 } },
  },
  {
    name: 'grey-nolist',
    description:
      'the 0.5% limit at the greylist threshold (4), list headers not tokenized (the new defaults)',
    options: { threshold: 4, maxHamRate: 0.005 },
    tokenizer: { listHeaders: false },
  },
  {
    name: 'grey-nolist-r4',
    description: 'the same with a margin: at most 0.4% of the out-of-fold ham at 4',
    options: { threshold: 4, maxHamRate: 0.004 },
    tokenizer: { listHeaders: false },
  },
  {
    name: 'grey-nolist-r3',
    description: 'the same with a wider margin: at most 0.3% of the out-of-fold ham at 4',
    options: { threshold: 4, maxHamRate: 0.003 },
    tokenizer: { listHeaders: false },
  },
  {
    name: 'l2-003',
    description: 'the current defaults (0.4% at 4, no list headers) with a weaker L2 penalty: 0.003',
    options: { threshold: 4, maxHamRate: 0.004, logistic: { l2: 0.003 } },
    tokenizer: { listHeaders: false },
  },
  {
    name: 'l2-001',
    description: 'the current defaults with a weaker L2 penalty: 0.001',
    options: { threshold: 4, maxHamRate: 0.004, logistic: { l2: 0.001 } },
    tokenizer: { listHeaders: false },
  },
  {
    name: 'l2-03',
    description: 'the current defaults with a stronger L2 penalty: 0.03',
    options: { threshold: 4, maxHamRate: 0.004, logistic: { l2: 0.03 } },
    tokenizer: { listHeaders: false },
  },

  {
    name: 'window1',
    description: 'the current defaults without word pairs (tokenizer window 1)',
    options: { threshold: 4, maxHamRate: 0.004 },
    tokenizer: { listHeaders: false, window: 1 },
  },
  {
    name: 'folds3',
    description:
      'the current defaults with 3 folds instead of 5 for the out-of-fold Bayes probabilities and scores',
    options: { threshold: 4, maxHamRate: 0.004, folds: 3 },
    tokenizer: { listHeaders: false },
  },
  {
    name: 'disc300',
    description: 'the current defaults with 300 tokens combined instead of 1,000',
    options: { threshold: 4, maxHamRate: 0.004, classifier: { maxDiscriminators: 300 } },
    tokenizer: { listHeaders: false },
  },
  {
    name: 'mincount2-r4',
    description: 'the current defaults with hapaxes left out (minCount 2)',
    options: { threshold: 4, maxHamRate: 0.004, classifier: { minCount: 2 } },
    tokenizer: { listHeaders: false },
  },
  {
    name: 'window1-l2-001',
    description: 'without word pairs (window 1) and with the weaker L2 penalty 0.001',
    options: { threshold: 4, maxHamRate: 0.004, logistic: { l2: 0.001 } },
    tokenizer: { listHeaders: false, window: 1 },
  },
  {
    name: 'sender-domain',
    description:
      'the current defaults with the built-in URI_NO_FROM_DOMAIN and FROM_DOMAIN_NOT_RCVD fitted (links and relays outside the From domain)',
    options: { threshold: 4, maxHamRate: 0.004 },
    tokenizer: { listHeaders: false },
  },
  {
    name: 'no-sender-domain',
    description: 'the same without URI_NO_FROM_DOMAIN and FROM_DOMAIN_NOT_RCVD (as before they came in)',
    options: {
      threshold: 4,
      maxHamRate: 0.004,
      ruleSet: new RuleSet({ disable: ['URI_NO_FROM_DOMAIN', 'FROM_DOMAIN_NOT_RCVD'] }),
    },
    tokenizer: { listHeaders: false },
  },
];
