import {
  checkErrorPolicy,
  checkNumber,
  definePlugin,
  type ErrorPolicy,
  invalidOption,
  type Plugin,
} from '@mef/core';
import { CORE_RANGE } from '../core-range.js';
import { readCapped } from '../plugins/capped.js';
import { checkPrefix, round2, skipDeclaredOversize } from '../plugins/common.js';
import { loadSaRules } from './load.js';
import type { SaRuleSet } from './rule-set.js';

/** Options of {@link spamassassinRules}. */
export interface SpamassassinRulesOptions {
  /** Folders of SpamAssassin `.cf` files, read in order (for example `/usr/share/spamassassin`). */
  readonly dirs?: readonly string[];
  /** A rule set already loaded with `loadSaRules` (to share one between stages); replaces `dirs`. */
  readonly ruleSet?: SaRuleSet;
  /** Messages larger than this (bytes) are not scanned; `SA_RULES_SKIPPED_SIZE` says so. Default 512 KiB. */
  readonly maxSize?: number;
  /** Score of `SA_RULES_SKIPPED_SIZE`. Default 0. */
  readonly skippedScore?: number;
  /** Prefix of the symbols (rule `FOO` becomes `SA_FOO`). Default `SA_`. */
  readonly prefix?: string;
  /**
   * Scores by symbol (`SA_FOO`), such as the `rules` of a scores file written by
   * `mef train --sa-rules DIR --scores FILE`: they replace the rule files' scores. A rule not
   * named keeps its own score.
   */
  readonly scores?: Readonly<Record<string, number>>;
  /** Plugin name. Default `spamassassin-rules`. */
  readonly name?: string;
  /** Stage timeout in ms. */
  readonly stageTimeout?: number;
  /** Default `accept`. */
  readonly onError?: ErrorPolicy;
}

/** The stage {@link spamassassinRules} returns, with its compiled rules. */
export interface SpamassassinRulesPlugin extends Plugin {
  readonly ruleSet: SaRuleSet;
}

/**
 * SpamAssassin's rule files run natively: the rules are read and compiled once, then every
 * message is checked in process (no spamd). Each hit becomes a symbol in group `spamassassin`
 * with the rule's score from score set 0 (no Bayes, no network tests).
 */
export function spamassassinRules(options: SpamassassinRulesOptions): SpamassassinRulesPlugin {
  if (!options.ruleSet && !options.dirs)
    throw invalidOption('dirs', options.dirs, 'a list of folders or a ruleSet');
  const maxSize = checkNumber('maxSize', options.maxSize, { min: 1 }) ?? 512 * 1024;
  const skippedScore = checkNumber('skippedScore', options.skippedScore, { min: -1000, max: 1000 }) ?? 0;
  const stageTimeout = checkNumber('stageTimeout', options.stageTimeout, { min: 1 });
  const onError = checkErrorPolicy('onError', options.onError) ?? 'accept';
  const prefix = checkPrefix(options.prefix, 'SA_');
  const scores = options.scores ?? {};
  if (typeof scores !== 'object' || scores === null) {
    throw invalidOption('scores', scores, 'an object of symbol scores');
  }
  for (const [symbol, score] of Object.entries(scores))
    checkNumber(`scores.${symbol}`, score, { min: -1000, max: 1000 });
  const ruleSet = options.ruleSet ?? loadSaRules({ dirs: options.dirs ?? [] });
  const group = 'spamassassin';
  return definePlugin({
    name: options.name ?? 'spamassassin-rules',
    core: CORE_RANGE,
    onError,
    ...(stageTimeout !== undefined ? { stageTimeout } : {}),
    ruleSet,
    async message(ctx) {
      if (skipDeclaredOversize(ctx, 'SA_RULES_SKIPPED_SIZE', maxSize, skippedScore, group)) return;
      const { bytes, size } = await readCapped(ctx.message.raw(), maxSize);
      if (bytes === undefined) {
        ctx.findings.symbol('SA_RULES_SKIPPED_SIZE', skippedScore, {
          group,
          options: [`${size} > ${maxSize}`],
        });
        return;
      }
      const result = ruleSet.check(bytes);
      for (const h of result.hits) {
        const symbol = saSymbol(prefix, h.name);
        ctx.findings.symbol(symbol, round2(scores[symbol] ?? h.score), {
          group,
          ...(h.description ? { description: h.description } : {}),
          ...(h.count > 1 ? { options: [`${h.count} hits`] } : {}),
        });
      }
    },
  });
}

/** The symbol a rule's hit is recorded as: `SA_` (the prefix) and the rule name in upper case. */
function saSymbol(prefix: string, rule: string): string {
  return `${prefix}${rule.toUpperCase()}`;
}

/**
 * The symbols {@link spamassassinRules} records for one message, for fitting their scores
 * (`mef train --sa-rules`): each reported rule that hit, or `SA_RULES_SKIPPED_SIZE` alone for a
 * message over `maxSize` (default 512 KiB), as the stage would see it.
 */
export function spamassassinRuleSymbols(
  ruleSet: SaRuleSet,
  raw: Buffer,
  options: { readonly prefix?: string; readonly maxSize?: number } = {},
): string[] {
  const prefix = checkPrefix(options.prefix, 'SA_');
  if (raw.length > (options.maxSize ?? 512 * 1024)) return ['SA_RULES_SKIPPED_SIZE'];
  return ruleSet.check(raw).hits.map((h) => saSymbol(prefix, h.name));
}
