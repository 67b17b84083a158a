import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PerlRegexError, splitPerlMatch, translatePerlRegex } from '../src/sa/perl-regex.js';

/** Compiles a Perl pattern with its modifiers through the translator. */
function perl(pattern: string, modifiers = ''): RegExp {
  const t = translatePerlRegex(pattern, modifiers);
  return new RegExp(t.source, t.flags);
}

function reason(pattern: string, modifiers = ''): string {
  try {
    translatePerlRegex(pattern, modifiers);
  } catch (err) {
    if (err instanceof PerlRegexError) return err.reason;
    throw err;
  }
  throw new Error(`expected ${pattern} to be refused`);
}

describe('translatePerlRegex: Perl semantics in JavaScript', () => {
  it('a leading (?i) is the i flag for the whole pattern', () => {
    expect(perl('(?i)viagra').test('VIAGRA now')).toBe(true);
    expect(translatePerlRegex('(?i)viagra').flags).toBe('i');
  });

  it('an inline (?i:...) group is case-insensitive only inside', () => {
    const re = perl('(?i:free)MONEY');
    expect(re.test('FrEeMONEY')).toBe(true);
    expect(re.test('freemoney')).toBe(false);
  });

  it('(?i) in the middle applies to the rest of its group only', () => {
    const re = perl('(a(?i)b)c');
    expect(re.test('aBc')).toBe(true);
    expect(re.test('aBC')).toBe(false);
    expect(re.test('ABc')).toBe(false);
  });

  it('(?-i) turns the modifier off where the pattern asks', () => {
    const re = perl('(?-i:A)b', 'i');
    expect(re.test('AB')).toBe(true);
    expect(re.test('aB')).toBe(false);
  });

  it('case expansion covers ranges inside classes', () => {
    expect(perl('(?i:[a-c]x)').test('BX')).toBe(true);
    expect(perl('(?i:[a-c]x)').test('DX')).toBe(false);
  });

  it('\\z is the very end, \\Z the end or before a final newline, \\A the start', () => {
    expect(perl('abc\\z').test('abc')).toBe(true);
    expect(perl('abc\\z').test('abc\n')).toBe(false);
    expect(perl('abc\\Z').test('abc\n')).toBe(true);
    expect(perl('abc\\Z').test('abc\nx')).toBe(false);
    expect(perl('\\Aabc').test('abc')).toBe(true);
    expect(perl('\\Aabc').test('x\nabc')).toBe(false);
  });

  it('$ without /m matches at the end and before a final newline, not before other newlines', () => {
    expect(perl('abc$').test('abc\n')).toBe(true);
    expect(perl('abc$').test('abc\nmore')).toBe(false);
    expect(perl('abc$', 'm').test('abc\nmore')).toBe(true);
    // JavaScript's multiline $ also stops at \r; Perl's does not.
    expect(perl('abc$', 'm').test('abc\rmore')).toBe(false);
  });

  it('^ with /m matches after every newline, and only after newlines', () => {
    expect(perl('^b', 'm').test('a\nb')).toBe(true);
    expect(perl('^b', 'm').test('a\rb')).toBe(false);
    expect(perl('^b').test('a\nb')).toBe(false);
  });

  it('. excludes only \\n (not \\r), and /s lets it match newlines', () => {
    expect(perl('a.b').test('a\rb')).toBe(true);
    expect(perl('a.b').test('a\nb')).toBe(false);
    expect(perl('a.b', 's').test('a\nb')).toBe(true);
  });

  it('\\s is ASCII whitespace only (no NBSP on bytes), \\h includes NBSP', () => {
    expect(perl('a\\sb').test('a\xa0b')).toBe(false);
    expect(perl('a\\sb').test('a\x0bb')).toBe(true);
    expect(perl('a\\hb').test('a\xa0b')).toBe(true);
    expect(perl('a\\hb').test('a\nb')).toBe(false);
    expect(perl('a\\vb').test('a\nb')).toBe(true);
  });

  it('possessive quantifiers do not give back', () => {
    expect(perl('a++a').test('aaaa')).toBe(false);
    expect(perl('a+a').test('aaaa')).toBe(true);
    expect(perl('x[0-9]*+y').test('x123y')).toBe(true);
  });

  it('atomic groups do not give back, and keep group numbers for back-references', () => {
    expect(perl('(?>a+)a').test('aaa')).toBe(false);
    expect(perl('(?>a+)b').test('aaab')).toBe(true);
    expect(perl('(?>x)(y)\\1').test('xyy')).toBe(true);
    expect(perl('(?>x)(y)\\1').test('xyz')).toBe(false);
  });

  it('POSIX classes inside brackets', () => {
    expect(perl('^[[:alpha:]]+$').test('abcXYZ')).toBe(true);
    expect(perl('^[[:digit:][:space:]]+$').test('1 2\t3')).toBe(true);
    expect(perl('[[:punct:]]').test('abc')).toBe(false);
  });

  it('named groups in all three spellings, and back-references to them', () => {
    expect(perl('(?<w>ab)\\k<w>').test('abab')).toBe(true);
    expect(perl("(?'w'ab)\\k'w'").test('abab')).toBe(true);
    expect(perl('(?P<w>ab)(?P=w)').test('abab')).toBe(true);
  });

  it('octal and hex escapes, inside and outside classes', () => {
    expect(perl('\\042').test('"')).toBe(true);
    expect(perl('[\\223\\224]{2}').test('\x93\x94')).toBe(true);
    expect(perl('\\x{41}\\x42').test('AB')).toBe(true);
    expect(perl('\\e').test('\x1b')).toBe(true);
  });

  it('\\Q...\\E quotes, (?#...) comments, /x free spacing', () => {
    expect(perl('\\Qa.b\\E').test('a.b')).toBe(true);
    expect(perl('\\Qa.b\\E').test('axb')).toBe(false);
    expect(perl('a(?#note)b').test('ab')).toBe(true);
    expect(perl('a b  # comment\n c', 'x').test('abc')).toBe(true);
  });

  it('{,n} is {0,n}, a brace that is no quantifier is literal, a leading ] is literal in a class', () => {
    expect(perl('^a{,2}$').test('aa')).toBe(true);
    expect(perl('^a{,2}$').test('aaa')).toBe(false);
    expect(perl('a{x').test('a{x')).toBe(true);
    expect(perl('[]a]').test(']')).toBe(true);
    expect(perl('[^]a]').test(']')).toBe(false);
  });

  it('refuses what JavaScript cannot express, with the reason', () => {
    expect(reason('a\\Kb')).toMatch(/\\K/);
    expect(reason('\\Gx')).toMatch(/\\G/);
    expect(reason('(a|(?R))')).toMatch(/recursion/);
    expect(reason('(?(1)a|b)')).toMatch(/conditionals/);
    expect(reason('(?|a|b)')).toMatch(/branch reset/);
    expect(reason('\\p{L}')).toMatch(/Unicode/);
    expect(reason('\\Uabc')).toMatch(/upper-case/);
    expect(reason('(a')).toMatch(/unbalanced/);
  });
});

describe('splitPerlMatch', () => {
  it('reads /re/flags, m{re}flags and other delimiters', () => {
    expect(splitPerlMatch('/ab\\/c/i')).toEqual({ pattern: 'ab/c', modifiers: 'i' });
    expect(splitPerlMatch('m{a{2}b}s')).toEqual({ pattern: 'a{2}b', modifiers: 's' });
    expect(splitPerlMatch('m!a\\!b!')).toEqual({ pattern: 'a!b', modifiers: '' });
    expect(() => splitPerlMatch('/unterminated')).toThrow(PerlRegexError);
    expect(() => splitPerlMatch('eval:foo()')).toThrow(PerlRegexError);
  });
});

describe('translator fuzz', () => {
  it('any input either translates to a valid RegExp or is refused with a PerlRegexError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.constantFrom('', 'i', 's', 'm', 'x', 'ims'), (p, mods) => {
        try {
          const t = translatePerlRegex(p, mods);
          expect(() => new RegExp(t.source, t.flags)).not.toThrow();
        } catch (err) {
          expect(err).toBeInstanceOf(PerlRegexError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  // Patterns from a subset where Perl and JavaScript agree must match exactly as JavaScript does.
  const atom = fc.constantFrom('a', 'b', 'c', '[ab]', '[^a]', '\\d', '\\w', '(?:ab|c)', '(b)', '1');
  const quant = fc.constantFrom('', '', '*', '+', '?', '{1,2}', '*?', '+?');
  const pattern = fc
    .array(fc.tuple(atom, quant), { minLength: 1, maxLength: 6 })
    .map((parts) => parts.map(([a, q]) => a + q).join(''));

  it('on the shared subset, the translation matches what JavaScript matches', () => {
    fc.assert(
      fc.property(
        pattern,
        fc.string({ unit: fc.constantFrom('a', 'b', 'c', '1', ' ', 'x') }),
        fc.boolean(),
        (p, s, i) => {
          const js = new RegExp(p, i ? 'i' : '');
          const ours = perl(p, i ? 'i' : '');
          expect(ours.exec(s)?.[0]).toBe(js.exec(s)?.[0]);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('an inline (?i:...) over the subset matches as the i flag does', () => {
    fc.assert(
      fc.property(pattern, fc.string({ unit: fc.constantFrom('a', 'B', 'c', 'A', 'b', '1') }), (p, s) => {
        const js = new RegExp(p, 'i');
        const ours = perl(`x|(?i:${p})`);
        expect(ours.test(s)).toBe(js.test(s) || s.includes('x'));
      }),
      { numRuns: 1000 },
    );
  });
});
