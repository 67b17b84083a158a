/**
 * Turns parsed `.cf` definitions into runnable matchers: scores picked from score set 0
 * (no Bayes, no network, as spamd with `use_bayes 0` and DNS off), rules that cannot run here
 * (score 0, network tests, unknown eval functions, untranslatable patterns) listed with the
 * reason, tags replaced, Perl patterns translated once.
 */
import type { SaConfig, SaRuleSource, SaRuleType, SaSkip } from './cf-parser.js';
import { parseEvalCall, SA_EVAL_ARGS, SA_EVALS, type SaEvalCall } from './eval.js';
import { type Expression, parseExpression } from './expression.js';
import { requiredLiterals } from './literals.js';
import { PerlRegexError, splitPerlMatch, translatePerlRegex } from './perl-regex.js';
import { replaceTags } from './replace-tags.js';

/** A rule that loaded, as `mef rules` lists it. */
export interface SaRuleInfo {
  readonly name: string;
  readonly type: SaRuleType;
  readonly file: string;
  readonly line: number;
  readonly score: number;
  readonly description: string | undefined;
  readonly tflags: readonly string[];
  readonly priority: number;
}

/** How a compiled rule tests a message. */
export type SaMatcher =
  | {
      readonly kind: 'regex';
      readonly re: RegExp;
      /** Line-anchored twin run once over all lines joined (body and rawbody). */
      readonly scan: RegExp | undefined;
      /** Lower-case strings one of which every match contains (see `literals.ts`). */
      readonly literals: readonly string[] | undefined;
      readonly negate: boolean;
    }
  | { readonly kind: 'exists'; readonly negate: boolean }
  | { readonly kind: 'eval'; readonly call: SaEvalCall }
  | { readonly kind: 'meta'; readonly expr: Expression };

/** A runnable rule. */
export interface SaCompiledRule extends SaRuleInfo {
  readonly matcher: SaMatcher;
  /** For header and mimeheader rules: what `get()` is asked. */
  readonly header: string | undefined;
  /** For header rules with `[if-unset: ...]`. */
  readonly unset: string | undefined;
  /** `tflags multiple`: count every match (bounded by `maxhits`). */
  readonly multiple: boolean;
  readonly maxHits: number;
  /** Sub-rules (`__NAME`) feed metas and are never reported. */
  readonly sub: boolean;
}

function pickScore(name: string, config: SaConfig, tflags: readonly string[]): number {
  const s = config.scores.get(name);
  // One value is every set's; of four, set 0 is the one without Bayes and network tests.
  if (s?.length) return s[0] as number;
  const base = name.startsWith('T_') ? 0.01 : 1;
  return tflags.includes('nice') ? -base : base;
}

function perlSource(text: string, config: SaConfig, name: string): { pattern: string; modifiers: string } {
  const { pattern, modifiers } = splitPerlMatch(text);
  return { pattern: config.replaceRules.has(name) ? replaceTags(pattern, config) : pattern, modifiers };
}

function toRegExp(
  text: string,
  config: SaConfig,
  name: string,
  global: boolean,
  lineAnchors: boolean,
): RegExp {
  const { pattern, modifiers } = perlSource(text, config, name);
  const t = translatePerlRegex(pattern, lineAnchors ? `${modifiers}m` : modifiers);
  return new RegExp(t.source, t.flags + (global ? 'g' : ''));
}

/** Whether a pattern's meaning depends on where the subject string starts or ends. */
function anchored(text: string): boolean {
  return /\\[AzZG]|\(\?<[=!]/.test(text);
}

function compileOne(src: SaRuleSource, config: SaConfig): SaCompiledRule | SaSkip {
  const { name, type, definition } = src;
  const skip = (reason: string): SaSkip => ({ name, file: src.file, line: src.line, reason });
  const tflags = config.tflags.get(name) ?? [];
  // As spamd in score set 0: eval rules flagged net or learn are not run; patterns and metas are.
  if (definition.startsWith('eval:') && tflags.includes('net')) {
    return skip('network test (tflags net): network tests stay off');
  }
  if (definition.startsWith('eval:') && tflags.includes('learn')) {
    return skip('Bayes test (tflags learn): the Bayes stage answers these');
  }
  const score = pickScore(name, config, tflags);
  const sub = name.startsWith('__');
  if (score === 0 && !sub) return skip('score 0: disabled, as in spamd');
  const maxHitsFlag = tflags.map((f) => /^maxhits=(\d+)$/.exec(f)).find(Boolean);
  const multiple = tflags.includes('multiple');
  const base = {
    name,
    type,
    file: src.file,
    line: src.line,
    score,
    description: config.describes.get(name),
    tflags,
    priority: config.priorities.get(name) ?? 0,
    multiple,
    maxHits: maxHitsFlag ? Number(maxHitsFlag[1]) : multiple ? 1000 : 1,
    sub,
  };
  try {
    if (type === 'meta') {
      return {
        ...base,
        header: undefined,
        unset: undefined,
        matcher: { kind: 'meta', expr: parseExpression(definition) },
      };
    }
    if (definition.startsWith('eval:')) {
      const call = parseEvalCall(definition.slice(5));
      if (!SA_EVALS[call.name]) return skip(`eval function ${call.name} is not implemented`);
      if (SA_EVAL_ARGS[call.name]?.(call.args) === false) {
        return skip(`eval function ${call.name} is not implemented for (${call.args.join(', ')})`);
      }
      return { ...base, header: undefined, unset: undefined, matcher: { kind: 'eval', call } };
    }
    if (type === 'header' || type === 'mimeheader') {
      const ex = /^(!?)exists:(\S+)$/.exec(definition);
      if (ex) {
        return {
          ...base,
          header: ex[2],
          unset: undefined,
          matcher: { kind: 'exists', negate: ex[1] === '!' },
        };
      }
      const m = /^(\S+)\s*(=~|!~)\s*(.*?)(?:\s+\[if-unset:\s*(.*)\])?$/.exec(definition);
      if (!m) return skip('header rule not understood');
      const header = m[1] as string;
      const mods = header.split(':').slice(1);
      const bad = mods.find((x) => !['raw', 'addr', 'name', 'first', 'last'].includes(x));
      if (bad) return skip(`header modifier :${bad} is not implemented`);
      if (/^ALL-/i.test(header)) return skip(`pseudo-header ${header} is not implemented`);
      const re = toRegExp(m[3] as string, config, name, false, false);
      return {
        ...base,
        header,
        unset: m[4],
        matcher: { kind: 'regex', re, scan: undefined, literals: undefined, negate: m[2] === '!~' },
      };
    }
    const multi = multiple;
    const re = toRegExp(definition, config, name, multi, false);
    // Body and rawbody rules also get a line-anchored twin run once over all lines joined:
    // when it finds nothing, no line can match, and the per-line pass is skipped.
    const scan =
      (type === 'body' || type === 'rawbody') && !anchored(definition)
        ? toRegExp(definition, config, name, false, true)
        : undefined;
    const { pattern, modifiers } = perlSource(definition, config, name);
    const literals = requiredLiterals(pattern, modifiers);
    return {
      ...base,
      header: undefined,
      unset: undefined,
      matcher: { kind: 'regex', re, scan, literals, negate: false },
    };
  } catch (err) {
    if (err instanceof PerlRegexError) return skip(`pattern not translatable: ${err.reason}`);
    return skip(`definition not understood: ${(err as Error).message}`);
  }
}

/** Compiles every rule of `config`; returns the runnable ones and the skipped ones. */
export function compileRules(config: SaConfig): { rules: SaCompiledRule[]; skipped: SaSkip[] } {
  const rules: SaCompiledRule[] = [];
  const skipped: SaSkip[] = [...config.skipped];
  for (const src of config.rules.values()) {
    const r = compileOne(src, config);
    if ('matcher' in r) rules.push(r);
    else skipped.push(r);
  }
  return { rules, skipped };
}
