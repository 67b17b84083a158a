/**
 * Perl regular expressions (as SpamAssassin's rule files write them) translated to
 * JavaScript. The subject strings are byte strings (latin1, one char per byte), as Perl sees
 * SpamAssassin's undecoded text, so no `u` flag is used and every construct whose meaning
 * differs is spelled out: `.`, `^`, `$`, `\s`, `\z`, `\Z`, `\A`, `\h`, `\v`, POSIX classes,
 * inline modifiers (expanded to explicit case classes where they do not cover the whole
 * pattern), atomic groups and possessive quantifiers (emulated with a captured look-ahead).
 * What JavaScript cannot express (recursion, conditionals, `\K`, `\G`, branch reset, case
 * escapes, Unicode properties) throws {@link PerlRegexError} with the reason.
 *
 * Over 400 lines on purpose: one scanner over the pattern whose cases share its position and
 * group state; the simple escapes live in `perl-syntax.ts`.
 */
import {
  hex2,
  literalAtom,
  PerlRegexError,
  readCodeEscape,
  SIMPLE_ESCAPES,
  translateClass,
  UNSUPPORTED_ESCAPES,
} from './perl-syntax.js';

export { PerlRegexError, splitPerlMatch } from './perl-syntax.js';

/** The JavaScript form of one Perl pattern. */
export interface TranslatedRegex {
  readonly source: string;
  readonly flags: string;
}

interface Mode {
  i: boolean;
  s: boolean;
  m: boolean;
  x: boolean;
}

interface Frame {
  mode: Mode;
  /** JS group number of the look-ahead capture that emulates an atomic group. */
  atomic: number | undefined;
  /** Where the group starts in the output (for a quantifier that follows it). */
  start: number;
  /** JS group count when the group opened. */
  groupsAtStart: number;
}

class Translator {
  private p = 0;
  private out = '';
  private groups = 0;
  private readonly groupMap: number[] = [];
  private perlGroups = 0;
  private readonly stack: Frame[] = [];
  private mode: Mode;
  /** Start in `out` of the last atom, for quantifiers; -1 when nothing is quantifiable. */
  private atomStart = -1;
  private atomGroups = 0;

  constructor(
    private readonly src: string,
    mode: Mode,
  ) {
    this.mode = { ...mode };
  }

  run(): string {
    const { src } = this;
    while (this.p < src.length) {
      const ch = src[this.p] as string;
      if (this.mode.x && /\s/.test(ch)) {
        this.p++;
        continue;
      }
      if (this.mode.x && ch === '#') {
        const nl = src.indexOf('\n', this.p);
        this.p = nl === -1 ? src.length : nl + 1;
        continue;
      }
      switch (ch) {
        case '\\':
          this.escape();
          break;
        case '[':
          this.atom(() => this.charClass());
          break;
        case '(':
          this.openGroup();
          break;
        case ')':
          this.closeGroup();
          break;
        case '|':
          this.out += '|';
          this.p++;
          this.atomStart = -1;
          break;
        case '.':
          this.p++;
          this.atom(() => (this.mode.s ? '[\\s\\S]' : '[^\\n]'));
          break;
        case '^':
          this.p++;
          this.out += this.mode.m ? '(?<![^\\n])' : '(?<![\\s\\S])';
          this.atomStart = -1;
          break;
        case '$':
          this.p++;
          this.out += this.mode.m ? '(?![^\\n])' : '(?=\\n?(?![\\s\\S]))';
          this.atomStart = -1;
          break;
        case '*':
        case '+':
        case '?':
          this.quantifier(ch, 1);
          break;
        case '{': {
          const m = /^\{(\d*)(,?)(\d*)\}/.exec(src.slice(this.p));
          if (m && (m[1] !== '' || (m[2] === ',' && m[3] !== ''))) {
            const q = `{${m[1] === '' ? '0' : m[1]}${m[2]}${m[3]}}`;
            this.quantifier(q, m[0].length);
          } else {
            this.p++;
            this.atom(() => '\\{');
          }
          break;
        }
        default:
          this.p++;
          this.atom(() => literalAtom(ch, this.caselessHere()));
      }
    }
    if (this.stack.length) throw new PerlRegexError('unbalanced parenthesis');
    return this.out;
  }

  /** True when case must be spelled out (the JS `i` flag is not set for the whole pattern). */
  private caselessHere(): boolean {
    return this.mode.i && !this.globalI;
  }

  globalI = false;

  private atom(emit: () => string): void {
    const start = this.out.length;
    const g = this.groups;
    this.out += emit();
    this.atomStart = start;
    this.atomGroups = g;
  }

  private quantifier(q: string, len: number): void {
    if (this.atomStart === -1) throw new PerlRegexError(`quantifier ${q} follows nothing`);
    this.p += len;
    let suffix = '';
    const next = this.src[this.p];
    if (next === '?') {
      suffix = '?';
      this.p++;
    } else if (next === '+') {
      this.p++;
      // Possessive: emulate with (?=(X*))\N when X holds no capture (numbering stays right);
      // otherwise greedy, which differs only where the possessive form would fail to match.
      if (this.atomGroups === this.groups) {
        const atom = this.out.slice(this.atomStart);
        this.groups++;
        this.out = `${this.out.slice(0, this.atomStart)}(?=(${atom}${q}))\\${this.groups}(?:)`;
        this.atomStart = -1;
        return;
      }
    }
    this.out += q + suffix;
    this.atomStart = -1;
  }

  private escape(): void {
    const { src } = this;
    const c = src[this.p + 1];
    if (c === undefined) throw new PerlRegexError('trailing backslash');
    const code = readCodeEscape(src, this.p + 1);
    if (code) {
      this.p = code.end;
      const ch = String.fromCharCode(code.code);
      this.atom(() => (code.code > 0xff ? hex2(code.code) : literalAtom(ch, this.caselessHere())));
      return;
    }
    if (c in UNSUPPORTED_ESCAPES) throw new PerlRegexError(UNSUPPORTED_ESCAPES[c] as string);
    this.p += 2;
    const simple = SIMPLE_ESCAPES[c];
    if (simple?.assertion !== undefined) {
      this.out += simple.assertion;
      this.atomStart = -1;
      return;
    }
    if (simple?.atom !== undefined) {
      const atom = simple.atom;
      this.atom(() => atom);
      return;
    }
    switch (c) {
      case 'c': {
        const ctl = src[this.p];
        if (ctl === undefined) throw new PerlRegexError('trailing \\c');
        this.p++;
        this.atom(() => hex2(ctl.toUpperCase().charCodeAt(0) ^ 0x40));
        return;
      }
      case 'Q': {
        const end = src.indexOf('\\E', this.p);
        const lit = src.slice(this.p, end === -1 ? src.length : end);
        this.p = end === -1 ? src.length : end + 2;
        for (const ch of lit) this.atom(() => literalAtom(ch, this.caselessHere()));
        return;
      }
      case 'E':
        return;
      case 'k':
        this.namedBackref();
        return;
      case 'g':
        this.gBackref();
        return;
      default:
        break;
    }
    const octal = /^[1-7][0-7]{2}/.exec(src.slice(this.p - 1));
    if (octal && Number(octal[0].slice(0, 2)) > this.perlGroups) {
      this.p += 2;
      const code = Number.parseInt(octal[0], 8);
      this.atom(() => literalAtom(String.fromCharCode(code), this.caselessHere()));
      return;
    }
    if (/[1-9]/.test(c)) {
      let digits = c;
      while (/[0-9]/.test(src[this.p] ?? '') && Number(digits + src[this.p]) <= this.perlGroups) {
        digits += src[this.p];
        this.p++;
      }
      this.backref(Number(digits));
      return;
    }
    this.atom(() => literalAtom(c, this.caselessHere()));
  }

  private backref(perl: number): void {
    const js = this.groupMap[perl];
    if (js === undefined) throw new PerlRegexError(`back-reference \\${perl} to a group not yet opened`);
    this.atom(() => `\\${js}(?:)`);
  }

  private namedBackref(): void {
    const m = /^(?:<(\w+)>|'(\w+)'|\{(\w+)\})/.exec(this.src.slice(this.p));
    if (!m) throw new PerlRegexError('malformed \\k back-reference');
    this.p += m[0].length;
    const name = m[1] ?? m[2] ?? m[3];
    this.atom(() => `\\k<${name}>`);
  }

  private gBackref(): void {
    const m = /^(?:\{(-?\d+)\}|(-?\d+))/.exec(this.src.slice(this.p));
    if (!m) {
      const named = /^\{(\w+)\}/.exec(this.src.slice(this.p));
      if (!named) throw new PerlRegexError('malformed \\g back-reference');
      this.p += named[0].length;
      this.atom(() => `\\k<${named[1]}>`);
      return;
    }
    this.p += m[0].length;
    const n = Number(m[1] ?? m[2]);
    this.backref(n < 0 ? this.perlGroups + 1 + n : n);
  }
  private charClass(): string {
    const { text, end } = translateClass(this.src, this.p, this.caselessHere());
    this.p = end;
    return text;
  }

  private openGroup(): void {
    const { src } = this;
    const rest = src.slice(this.p, this.p + 40);
    const frame: Frame = {
      mode: this.mode,
      atomic: undefined,
      start: this.out.length,
      groupsAtStart: this.groups,
    };
    if (rest.startsWith('(?#')) {
      const close = src.indexOf(')', this.p);
      if (close === -1) throw new PerlRegexError('unterminated (?#...) comment');
      this.p = close + 1;
      return;
    }
    if (rest.startsWith('(*'))
      throw new PerlRegexError('backtracking control verbs (*...) are not supported');
    const named = /^\(\?(?:P?<(\w+)>|'(\w+)')/.exec(rest);
    if (named) {
      this.p += named[0].length;
      this.capture(`(?<${named[1] ?? named[2]}>`, frame);
      return;
    }
    const pyRef = /^\(\?P=(\w+)\)/.exec(rest);
    if (pyRef) {
      this.p += pyRef[0].length;
      this.atom(() => `\\k<${pyRef[1]}>`);
      return;
    }
    if (/^\(\?(?:\||\(|R\)|[+-]?\d+\)|&|P>)/.test(rest)) {
      throw new PerlRegexError('recursion, conditionals and branch reset are not supported');
    }
    const plain = /^\(\?(?::|=|!|<=|<!)/.exec(rest);
    if (plain) {
      this.p += plain[0].length;
      this.out += plain[0];
      this.stack.push(frame);
      this.atomStart = -1;
      return;
    }
    if (rest.startsWith('(?>')) {
      this.p += 3;
      this.groups++;
      frame.atomic = this.groups;
      this.out += '(?:(?=(';
      this.stack.push(frame);
      this.atomStart = -1;
      return;
    }
    const m = /^\(\?(\^?)([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest);
    if (m) {
      this.p += m[0].length;
      const mode: Mode = m[1] === '^' ? { i: false, s: false, m: false, x: false } : { ...this.mode };
      for (const f of m[2] ?? '') this.setFlag(mode, f, true);
      for (const f of m[3] ?? '') this.setFlag(mode, f, false);
      if (m[4] === ')') {
        // Applies to the rest of the enclosing group.
        this.mode = mode;
        this.atomStart = -1;
        return;
      }
      this.out += '(?:';
      this.stack.push(frame);
      this.mode = mode;
      this.atomStart = -1;
      return;
    }
    if (rest.startsWith('(?')) throw new PerlRegexError(`unsupported group ${rest.slice(0, 4)}`);
    this.p++;
    this.capture('(', frame);
  }

  private setFlag(mode: Mode, f: string, on: boolean): void {
    if (f === 'i' || f === 's' || f === 'm' || f === 'x') mode[f] = on;
    else if (!'aludnp'.includes(f)) throw new PerlRegexError(`unknown inline modifier ${f}`);
  }

  private capture(open: string, frame: Frame): void {
    this.groups++;
    this.perlGroups++;
    this.groupMap[this.perlGroups] = this.groups;
    this.out += open;
    this.stack.push(frame);
    this.atomStart = -1;
  }

  private closeGroup(): void {
    const frame = this.stack.pop();
    if (!frame) throw new PerlRegexError('unbalanced parenthesis');
    this.p++;
    this.out += frame.atomic !== undefined ? `))\\${frame.atomic})` : ')';
    this.mode = frame.mode;
    this.atomStart = frame.start;
    this.atomGroups = frame.groupsAtStart;
  }
}

/** True when the `i` modifier is toggled anywhere inside the pattern. */
function togglesCase(pattern: string): boolean {
  return /\(\?\^|\(\?[a-zA-Z]*-[a-zA-Z]*i|\(\?[a-zA-Z]*i[a-zA-Z]*(?:-[a-zA-Z]*)?[:)]/.test(pattern);
}

/**
 * Translates a Perl pattern with its modifiers (`i`, `m`, `s`, `x`; `g` and `o` are
 * ignored) to a JavaScript source and flags for byte (latin1) strings.
 * Throws {@link PerlRegexError} when the pattern cannot be expressed.
 */
export function translatePerlRegex(pattern: string, modifiers = ''): TranslatedRegex {
  for (const f of modifiers) {
    if (!'imsxgoadlu'.includes(f)) throw new PerlRegexError(`unknown modifier ${f}`);
  }
  let body = pattern;
  let mode: Mode = {
    i: modifiers.includes('i'),
    s: modifiers.includes('s'),
    m: modifiers.includes('m'),
    x: modifiers.includes('x'),
  };
  // A leading (?i) (the common spelling in rule files) is the same as the modifier.
  const lead = /^\(\?([imsx]+)\)/.exec(body);
  if (lead) {
    for (const f of lead[1] as string) mode = { ...mode, [f]: true };
    body = body.slice(lead[0].length);
  }
  const t = new Translator(body, mode);
  t.globalI = mode.i && !togglesCase(body);
  const source = t.run();
  const flags = t.globalI ? 'i' : '';
  try {
    new RegExp(source, flags);
  } catch (err) {
    throw new PerlRegexError(`JavaScript rejects the translation: ${(err as Error).message}`);
  }
  return { source, flags };
}
