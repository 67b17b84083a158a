import {
  checkErrorPolicy,
  checkNumber,
  definePlugin,
  type ErrorPolicy,
  invalidOption,
  type Plugin,
} from '@mef/core';
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
  /** Plugin name. Default `spamassassin-rules`. */
  readonly name?: string;
  /** Stage timeout in ms. */
  readonly timeout?: number;
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
  const timeout = checkNumber('timeout', options.timeout, { min: 1 });
  const onError = checkErrorPolicy('onError', options.onError) ?? 'accept';
  const prefix = checkPrefix(options.prefix, 'SA_');
  const ruleSet = options.ruleSet ?? loadSaRules({ dirs: options.dirs ?? [] });
  const group = 'spamassassin';
  return definePlugin({
    name: options.name ?? 'spamassassin-rules',
    core: '^0.1.0',
    onError,
    ...(timeout !== undefined ? { timeout } : {}),
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
        ctx.findings.symbol(`${prefix}${h.name.toUpperCase()}`, round2(h.score), {
          group,
          ...(h.description ? { description: h.description } : {}),
          ...(h.count > 1 ? { options: [`${h.count} hits`] } : {}),
        });
      }
    },
  });
}
