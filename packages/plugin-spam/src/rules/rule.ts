import type { MessageFeatures } from '../features.js';
import type { Analysis } from './analysis.js';

/**
 * What a rule's test returns: `false` (no hit), `true` (a hit), or the hit's options (the
 * details shown beside the symbol, such as the mismatched domains).
 */
export type RuleResult = boolean | readonly string[];

/** One rule: a small, named value with a default score. */
export interface Rule {
  /** Symbol name, UPPER_SNAKE. */
  readonly name: string;
  /** Default score; configuration can change it. */
  readonly score: number;
  readonly description: string;
  /** Where it looks; also the symbol group suffix (`spam.header`...). */
  readonly area: 'header' | 'body' | 'html' | 'uri' | 'attachment';
  /** Decides on the views of one message. Must not throw for any content. */
  test(msg: MessageFeatures, analysis: Analysis): RuleResult;
}

/** Identity helper that gives a rule literal its type. */
export function defineRule(rule: Rule): Rule {
  return rule;
}
