import { invalidOption } from '@mef/core';
import type { MessageFeatures } from '../features.js';
import { Analysis } from './analysis.js';
import { builtinRules } from './builtin.js';
import type { Rule } from './rule.js';

/** Configuration of the rule set: add, disable and rescore rules. */
export interface RuleConfig {
  /** Extra rules, run after the built-in ones (a rule with a built-in name replaces it). */
  readonly rules?: readonly Rule[];
  /** Names of rules to switch off. */
  readonly disable?: readonly string[];
  /** New scores by rule name. */
  readonly scores?: Readonly<Record<string, number>>;
  /** Start from an empty set instead of the built-in rules. Default false. */
  readonly noBuiltins?: boolean;
}

/** One rule that hit. */
export interface RuleHit {
  readonly name: string;
  readonly score: number;
  readonly area: Rule['area'];
  readonly description: string;
  readonly options: readonly string[];
}

const NAME_RE = /^[A-Z][A-Z0-9_]*$/;

/** A compiled rule set: the effective rules with their scores, run in one pass per message. */
export class RuleSet {
  readonly rules: readonly Rule[];

  constructor(config: RuleConfig = {}) {
    const byName = new Map<string, Rule>();
    if (!config.noBuiltins) for (const r of builtinRules) byName.set(r.name, r);
    if (config.rules !== undefined && !Array.isArray(config.rules)) {
      throw invalidOption('rules', config.rules, 'an array of rules');
    }
    for (const r of config.rules ?? []) {
      if (!r || typeof r.name !== 'string' || !NAME_RE.test(r.name) || typeof r.test !== 'function') {
        throw invalidOption('rules', r?.name ?? r, 'rules with an UPPER_SNAKE name and a test function');
      }
      if (typeof r.score !== 'number' || !Number.isFinite(r.score)) {
        throw invalidOption(`rules.${r.name}.score`, r.score, 'a finite number');
      }
      byName.set(r.name, r);
    }
    for (const name of config.disable ?? []) {
      if (!byName.has(name))
        throw invalidOption('disable', name, `a known rule name (${[...byName.keys()].join(', ')})`);
      byName.delete(name);
    }
    for (const [name, score] of Object.entries(config.scores ?? {})) {
      const r = byName.get(name);
      if (!r) throw invalidOption('scores', name, 'a known, enabled rule name');
      if (typeof score !== 'number' || !Number.isFinite(score))
        throw invalidOption(`scores.${name}`, score, 'a finite number');
      byName.set(name, { ...r, score });
    }
    this.rules = Object.freeze([...byName.values()]);
  }

  /** Runs every rule on one message. A rule that throws is reported as an error hit, never rethrown. */
  run(msg: MessageFeatures): { hits: RuleHit[]; failed: { name: string; error: unknown }[] } {
    const analysis = new Analysis(msg);
    const hits: RuleHit[] = [];
    const failed: { name: string; error: unknown }[] = [];
    for (const rule of this.rules) {
      let result: boolean | readonly string[];
      try {
        result = rule.test(msg, analysis);
      } catch (error) {
        failed.push({ name: rule.name, error });
        continue;
      }
      if (result === false) continue;
      hits.push({
        name: rule.name,
        score: rule.score,
        area: rule.area,
        description: rule.description,
        options: result === true ? [] : result,
      });
    }
    return { hits, failed };
  }
}
