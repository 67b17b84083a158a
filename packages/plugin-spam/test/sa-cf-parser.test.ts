import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyConfig, parseCf, type SaEnvironment, stripComment } from '../src/sa/cf-parser.js';
import { parseExpression } from '../src/sa/expression.js';
import { requiredLiterals } from '../src/sa/literals.js';
import { SaRuleSet } from '../src/sa/rule-set.js';

const env: SaEnvironment = {
  version: 4.000001,
  plugins: new Set(['Mail::SpamAssassin::Plugin::HeaderEval', 'Mail::SpamAssassin::Plugin::ReplaceTags']),
  features: new Set(['feature_bug6558_free']),
};

function parse(text: string) {
  const config = emptyConfig();
  parseCf(text, 'test.cf', env, config);
  return config;
}

describe('parseCf', () => {
  it('reads the rule types, score sets, describe, tflags and priority', () => {
    const c = parse(`
header   SUBJ_FREE   Subject =~ /free/i   # a comment
body     BODY_CASH   /\\bcash\\b/
rawbody  RAW_FONT    /<font/i
uri      URI_IP      m{^https?://\\d+\\.\\d+}
full     FULL_X      /^X-Foo:/m
meta     BOTH        SUBJ_FREE && BODY_CASH
score    SUBJ_FREE   1.5
score    BODY_CASH   0 0.5 1.0 2.0
describe SUBJ_FREE   Subject says free
tflags   BODY_CASH   multiple maxhits=3
priority BOTH        -100
`);
    expect([...c.rules.keys()]).toEqual(['SUBJ_FREE', 'BODY_CASH', 'RAW_FONT', 'URI_IP', 'FULL_X', 'BOTH']);
    expect(c.rules.get('URI_IP')?.type).toBe('uri');
    expect(c.rules.get('SUBJ_FREE')?.definition).toBe('Subject =~ /free/i');
    expect(c.scores.get('BODY_CASH')).toEqual([0, 0.5, 1, 2]);
    expect(c.describes.get('SUBJ_FREE')).toBe('Subject says free');
    expect(c.tflags.get('BODY_CASH')).toEqual(['multiple', 'maxhits=3']);
    expect(c.priorities.get('BOTH')).toBe(-100);
  });

  it('evaluates ifplugin, if, else and nesting against the plugins and features given', () => {
    const c = parse(`
ifplugin Mail::SpamAssassin::Plugin::HeaderEval
  header A eval:check_for_missing_to_header()
endif
ifplugin Mail::SpamAssassin::Plugin::DKIM
  header B exists:DKIM-Signature
else
  header B2 exists:X-No-Dkim
endif
if (version >= 3.004000)
  if !plugin(Mail::SpamAssassin::Plugin::DKIM)
    body C /c/
  endif
endif
if can(Mail::SpamAssassin::Conf::feature_unknown)
  body D /d/
endif
if (version > 5.0)
  body E /e/
endif
`);
    expect([...c.rules.keys()].sort()).toEqual(['A', 'B2', 'C']);
    expect(c.skipped.some((s) => /plugin Mail::SpamAssassin::Plugin::DKIM/.test(s.reason))).toBe(true);
  });

  it('require_version of another version skips the rest of the file, with the reason', () => {
    const c = parse('body A /a/\nrequire_version 3.003000\nbody B /b/\n');
    expect([...c.rules.keys()]).toEqual(['A']);
    expect(c.skipped[0]?.reason).toMatch(/requires SpamAssassin 3.003000/);
  });

  it('a later definition replaces an earlier one; \\# is a literal #', () => {
    const c = parse('body A /one/\nbody A /two\\#x/ # comment\n');
    expect(c.rules.get('A')?.definition).toBe('/two#x/');
    expect(stripComment('score X 1 # note')).toBe('score X 1');
  });

  it('replace_tag rules get their tags replaced before translation', () => {
    const c = parse(`
replace_tag  A   [a4@]
replace_inter W1 \\W?
replace_rules R
body R /<inter W1><A><A>/
`);
    const set = new SaRuleSet(c);
    expect(set.check('Subject: x\n\nsaw 4@ here\n').hits.map((h) => h.name)).toEqual(['R']);
    expect(set.check('Subject: x\n\nsaw a-a here\n').hits.map((h) => h.name)).toEqual(['R']);
    expect(set.check('Subject: x\n\nnothing\n').hits).toEqual([]);
  });

  it('never throws on arbitrary lines, and keeps every line it cannot use out of the rules', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc
        .tuple(
          fc.constantFrom(
            'header',
            'body',
            'meta',
            'score',
            'if',
            'ifplugin',
            'else',
            'endif',
            'tflags',
            'uri',
          ),
          fc.string({ maxLength: 40 }),
        )
        .map(([k, v]) => `${k} ${v}`),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 30 }), (lines) => {
        const c = parse(lines.join('\n'));
        // Compiling what was read never throws either: bad rules are skipped with a reason.
        const set = new SaRuleSet(c);
        for (const s of set.skipped) expect(s.reason.length).toBeGreaterThan(0);
        expect(() => set.check('Subject: hi\n\nbody\n')).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });
});

describe('meta expressions', () => {
  it('arithmetic, comparisons and boolean logic as SpamAssassin evaluates them', () => {
    const v = (n: string) => ({ A: 1, B: 0, C: 3 })[n] ?? 0;
    expect(parseExpression('A && !B').evaluate(v)).toBe(1);
    expect(parseExpression('(A + C) > 3').evaluate(v)).toBe(1);
    expect(parseExpression('A + B + C >= 5').evaluate(v)).toBe(0);
    expect(parseExpression('C * 2 - 1 == 5').evaluate(v)).toBe(1);
    expect(parseExpression('B || UNKNOWN').evaluate(v)).toBe(0);
    expect(parseExpression('A and not B').evaluate(v)).toBe(1);
    expect(() => parseExpression('A &&')).toThrow();
    expect(() => parseExpression('A ; system(1)')).toThrow();
  });

  it('bound to an array of values, gives what evaluate gives; an unknown name reads 0', () => {
    const values = [1, 0, 3];
    const slot = (n: string) => ['A', 'B', 'C'].indexOf(n);
    const v = (n: string) => values[slot(n)] ?? 0;
    for (const text of [
      'A && !B',
      '(A + C) > 3',
      'A + B + C >= 5',
      'C * 2 - 1 == 5',
      'B || UNKNOWN',
      'C / B',
    ]) {
      const e = parseExpression(text);
      expect(e.bind(slot)(values), text).toBe(e.evaluate(v));
    }
    const bound = parseExpression('A && C > 2').bind(slot);
    expect(bound([1, 0, 3])).toBe(1);
    expect(bound([1, 0, 2])).toBe(0);
  });
});

describe('required literals (the body prefilter)', () => {
  it('finds a literal every match contains, or none when no branch is certain', () => {
    expect(requiredLiterals('\\bcheap\\s+viagra', 'i')).toEqual(['cheap ']);
    expect(requiredLiterals('(?:foo|barbaz)qq', '')).toEqual(['foo', 'barbaz']);
    expect(requiredLiterals('(?:foo|b)x', '')).toBeUndefined();
    expect(requiredLiterals('free\\smoney', 'i')).toEqual(['free money']);
    expect(requiredLiterals('abc?', '')).toBeUndefined();
  });

  it('is sound: whenever the pattern matches, one literal occurs in the lower-cased text', () => {
    const word = fc.constantFrom('free', 'cash', 'Win', 'now', 'a', 'x1');
    const piece = fc.oneof(
      word,
      word.map((w) => `(?:${w}|${w}s)`),
      fc.constantFrom('\\s', '.', '\\d?', '[ab]'),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { minLength: 1, maxLength: 5 }),
        fc.string({
          unit: fc.constantFrom('f', 'r', 'e', 'c', 'a', 's', 'h', 'W', 'i', 'n', 'o', 'w', ' ', 'x', '1'),
        }),
        (pieces, text) => {
          const p = pieces.join('');
          const lits = requiredLiterals(p, 'i');
          if (!lits || !new RegExp(p, 'i').test(text)) return;
          const gate = text.toLowerCase().replace(/[\t-\r]/g, ' ');
          expect(lits.some((l) => gate.includes(l))).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
