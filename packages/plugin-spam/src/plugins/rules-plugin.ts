import { checkErrorPolicy, checkNumber, definePlugin, type ErrorPolicy, type Plugin } from '@mef/core';
import { collectFeatures } from '../collect.js';
import { CORE_RANGE } from '../core-range.js';
import { type RuleConfig, RuleSet } from '../rules/rule-set.js';

/** Options of {@link spamRules}. */
export interface SpamRulesOptions extends RuleConfig {
  /** Plugin name (to run two differently configured sets). Default `spam-rules`. */
  readonly name?: string;
  readonly stageTimeout?: number;
  /** Default `accept`: a missing opinion is no reason to delay mail. */
  readonly onError?: ErrorPolicy;
}

/** A plugin that runs the built-in (and configured) spam rules on every message. */
export interface SpamRulesPlugin extends Plugin {
  readonly ruleSet: RuleSet;
}

/** The built-in spam rules as a plugin: each hit becomes a symbol in group `spam`. */
export function spamRules(options: SpamRulesOptions = {}): SpamRulesPlugin {
  const ruleSet = new RuleSet(options);
  const stageTimeout = checkNumber('stageTimeout', options.stageTimeout, { min: 1 });
  const onError = checkErrorPolicy('onError', options.onError) ?? 'accept';
  return definePlugin({
    name: options.name ?? 'spam-rules',
    core: CORE_RANGE,
    onError,
    ...(stageTimeout !== undefined ? { stageTimeout } : {}),
    ruleSet,
    async message(ctx) {
      const features = await collectFeatures(ctx);
      const { hits, failed } = ruleSet.run(features);
      for (const h of hits) {
        ctx.findings.symbol(h.name, h.score, {
          group: 'spam',
          options: h.options,
          description: h.description,
        });
      }
      for (const f of failed) {
        ctx.log.warn({ rule: f.name, err: f.error }, 'spam rule failed');
        ctx.findings.symbol('SPAM_RULE_FAILED', 0, { group: 'spam', options: [f.name] });
      }
    },
  });
}
