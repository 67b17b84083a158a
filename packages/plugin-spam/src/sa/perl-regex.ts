/**
 * Perl regular expressions (as SpamAssassin's rule files write them) translated to
 * JavaScript. The subject strings are byte strings (latin1, one char per byte), as Perl sees
 * SpamAssassin's undecoded text, so no `u` flag is used and every construct whose meaning
 * differs is spelled out: `.`, `^`, `$`, `\s`, `\z`, `\Z`, `\A`, `\h`, `\v`, POSIX classes,
 * inline modifiers (expanded to explicit case classes where they do not cover the whole
 * pattern), atomic groups and possessive quantifiers (emulated with a captured look-ahead).
 * What JavaScript cannot express (recursion, conditionals, `\K`, `\G`, branch reset, case
 * escapes, Unicode properties) throws {@link PerlRegexError} with the reason.
 */

/** A pattern the translator cannot express in JavaScript; `reason` says which construct. */
export class PerlRegexError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'PerlRegexError';
  }
}

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

const POSIX: Readonly<Record<string, string>> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: '0-9A-Za-z',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\t-\\r ',
  blank: '\\t ',
  punct: '!-\\/:-@\\[-`{-~',
  print: ' -~',
  graph: '!-~',
  cntrl: '\\x00-\\x1f\\x7f',
  xdigit: '0-9A-Fa-f',
  word: '0-9A-Za-z_',
  ascii: '\\x00-\\x7f',
};

const SPACE_CLASS = '\\t-\\r ';
const HSPACE_CLASS = '\\t \\xa0';
const VSPACE_CLASS = '\\n\\x0b\\f\\r\\x85';

function hex2(code: number): string {
  if (code > 0xffff) throw new PerlRegexError(`code point U+${code.toString(16)} above the byte range`);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

function escapeLiteral(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : hex2IfControl(ch);
}

function hex2IfControl(ch: string): string {
  const c = ch.charCodeAt(0);
  return c < 0x20 || c === 0x7f || c > 0xff ? hex2(c) : ch;
}

function isLetter(ch: string): boolean {
  return /^[A-Za-z]$/.test(ch);
}

function swapCase(ch: string): string {
  return ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase();
}

/** A literal character as a JS atom, spelled out in both cases when `caseless`. */
function literalAtom(ch: string, caseless: boolean): string {
  if (caseless && isLetter(ch)) return `[${ch}${swapCase(ch)}]`;
  return escapeLiteral(ch);
}

/** Reads a `\x..`, `\0..`, `\o{..}`, `\N{U+..}` escape at `p` (just after the backslash). */
function readCodeEscape(src: string, p: number): { code: number; end: number } | undefined {
  const c = src[p];
  if (c === 'x') {
    if (src[p + 1] === '{') {
      const close = src.indexOf('}', p + 2);
      if (close === -1) throw new PerlRegexError('unterminated \\x{...}');
      const digits = src.slice(p + 2, close).trim();
      return { code: digits === '' ? 0 : Number.parseInt(digits, 16), end: close + 1 };
    }
    const m = /^[0-9A-Fa-f]{0,2}/.exec(src.slice(p + 1)) as RegExpExecArray;
    return { code: m[0] === '' ? 0 : Number.parseInt(m[0], 16), end: p + 1 + m[0].length };
  }
  if (c === 'o' && src[p + 1] === '{') {
    const close = src.indexOf('}', p + 2);
    if (close === -1) throw new PerlRegexError('unterminated \\o{...}');
    return { code: Number.parseInt(src.slice(p + 2, close), 8), end: close + 1 };
  }
  if (c === 'N' && src[p + 1] === '{') {
    const m = /^\{U\+([0-9A-Fa-f]+)\}/.exec(src.slice(p + 1));
    if (!m) throw new PerlRegexError('named character \\N{...}');
    return { code: Number.parseInt(m[1] as string, 16), end: p + 1 + m[0].length };
  }
  if (c === '0') {
    const m = /^[0-7]{0,2}/.exec(src.slice(p + 1)) as RegExpExecArray;
    return { code: m[0] === '' ? 0 : Number.parseInt(m[0], 8), end: p + 1 + m[0].length };
  }
  const simple: Record<string, number> = { e: 0x1b, a: 0x07, t: 9, n: 10, r: 13, f: 12 };
  if (c !== undefined && c in simple) return { code: simple[c] as number, end: p + 1 };
  return undefined;
}

const UNSUPPORTED_ESCAPES: Readonly<Record<string, string>> = {
  K: '\\K (keep out) has no JavaScript equivalent',
  G: '\\G (end of previous match) has no JavaScript equivalent',
  X: '\\X (extended grapheme) needs Unicode mode',
  C: '\\C (single byte) has no JavaScript equivalent',
  p: '\\p{...} (Unicode property) needs Unicode mode',
  P: '\\P{...} (Unicode property) needs Unicode mode',
  l: '\\l (lower-case next) has no JavaScript equivalent',
  u: '\\u (upper-case next) has no JavaScript equivalent',
  L: '\\L (lower-case until \\E) has no JavaScript equivalent',
  U: '\\U (upper-case until \\E) has no JavaScript equivalent',
};

/** Adds the other case of every letter in a class body made of single chars and ranges. */
function caselessRange(lo: number, hi: number): string {
  let extra = '';
  for (const [a, z, delta] of [
    [0x61, 0x7a, -32],
    [0x41, 0x5a, 32],
  ] as const) {
    const from = Math.max(lo, a);
    const to = Math.min(hi, z);
    if (from <= to) extra += `${hex2(from + delta)}-${hex2(to + delta)}`;
  }
  return extra;
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
    switch (c) {
      case 'z':
        this.out += '(?![\\s\\S])';
        this.atomStart = -1;
        return;
      case 'Z':
        this.out += '(?=\\n?(?![\\s\\S]))';
        this.atomStart = -1;
        return;
      case 'A':
        this.out += '(?<![\\s\\S])';
        this.atomStart = -1;
        return;
      case 'b':
      case 'B':
        this.out += `\\${c}`;
        this.atomStart = -1;
        return;
      case 's':
        this.atom(() => `[${SPACE_CLASS}]`);
        return;
      case 'S':
        this.atom(() => `[^${SPACE_CLASS}]`);
        return;
      case 'h':
        this.atom(() => `[${HSPACE_CLASS}]`);
        return;
      case 'H':
        this.atom(() => `[^${HSPACE_CLASS}]`);
        return;
      case 'v':
        this.atom(() => `[${VSPACE_CLASS}]`);
        return;
      case 'V':
        this.atom(() => `[^${VSPACE_CLASS}]`);
        return;
      case 'R':
        this.atom(() => `(?:\\r\\n|[${VSPACE_CLASS}])`);
        return;
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        this.atom(() => `\\${c}`);
        return;
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
    const { src } = this;
    this.p++;
    let negate = false;
    if (src[this.p] === '^') {
      negate = true;
      this.p++;
    }
    let body = '';
    let first = true;
    const caseless = this.caselessHere();
    let prevCode: number | undefined;
    while (this.p < src.length) {
      const ch = src[this.p] as string;
      if (ch === ']' && !first) break;
      first = false;
      if (ch === '[' && src[this.p + 1] === ':') {
        const m = /^\[:(\^?)(\w+):\]/.exec(src.slice(this.p));
        if (m) {
          const set = POSIX[m[2] as string];
          if (!set) throw new PerlRegexError(`unknown POSIX class [:${m[2]}:]`);
          if (m[1] === '^') throw new PerlRegexError(`negated POSIX class [:^${m[2]}:] inside a class`);
          body += set;
          this.p += m[0].length;
          prevCode = undefined;
          continue;
        }
      }
      if (ch === '-' && prevCode !== undefined && src[this.p + 1] !== ']' && src[this.p + 1] !== undefined) {
        this.p++;
        const hi = this.classChar();
        if (hi === undefined) throw new PerlRegexError('range to a class escape inside [...]');
        if (hi < prevCode) throw new PerlRegexError('invalid range in [...]');
        body += `-${hex2(hi)}`;
        if (caseless) body += caselessRange(prevCode, hi);
        prevCode = undefined;
        continue;
      }
      const save = this.p;
      const code = this.classChar();
      if (code === undefined) {
        body += this.classEscape(save);
        prevCode = undefined;
        continue;
      }
      body += hex2(code);
      const ch2 = String.fromCharCode(code);
      if (caseless && isLetter(ch2)) body += swapCase(ch2);
      prevCode = code;
    }
    if (src[this.p] !== ']') throw new PerlRegexError('unterminated character class');
    this.p++;
    if (body === '') return negate ? '[\\s\\S]' : '(?!)';
    return `[${negate ? '^' : ''}${body}]`;
  }

  /** One literal char of a class as its code, or undefined for a class escape like `\s`. */
  private classChar(): number | undefined {
    const { src } = this;
    const ch = src[this.p] as string;
    if (ch !== '\\') {
      this.p++;
      return ch.charCodeAt(0);
    }
    const c = src[this.p + 1];
    if (c === undefined) throw new PerlRegexError('trailing backslash');
    const code = readCodeEscape(src, this.p + 1);
    if (code) {
      this.p = code.end;
      return code.code;
    }
    if (c === 'b') {
      this.p += 2;
      return 8;
    }
    const octal = /^[1-7][0-7]{0,2}/.exec(src.slice(this.p + 1));
    if (octal) {
      this.p += 1 + octal[0].length;
      return Number.parseInt(octal[0], 8);
    }
    if (c === 'c') {
      const ctl = src[this.p + 2] ?? '@';
      this.p += 3;
      return ctl.toUpperCase().charCodeAt(0) ^ 0x40;
    }
    if (/[sSdDwWhHvVpPN]/.test(c)) return undefined;
    this.p += 2;
    return c.charCodeAt(0);
  }

  private classEscape(at: number): string {
    const c = this.src[at + 1] as string;
    this.p = at + 2;
    switch (c) {
      case 's':
        return SPACE_CLASS;
      case 'h':
        return HSPACE_CLASS;
      case 'v':
        return VSPACE_CLASS;
      case 'd':
      case 'D':
      case 'w':
      case 'W':
      case 'S':
        return `\\${c}`;
      default:
        throw new PerlRegexError(`\\${c} inside a character class`);
    }
  }

  private openGroup(): void {
    const { src } = this;
    const rest = src.slice(this.p, this.p + 40);
    const frame: Frame = { mode: this.mode, atomic: undefined, start: this.out.length, groupsAtStart: this.groups };
    if (rest.startsWith('(?#')) {
      const close = src.indexOf(')', this.p);
      if (close === -1) throw new PerlRegexError('unterminated (?#...) comment');
      this.p = close + 1;
      return;
    }
    if (rest.startsWith('(*')) throw new PerlRegexError('backtracking control verbs (*...) are not supported');
    let m: RegExpExecArray | null;
    if ((m = /^\(\?(?:P?<(\w+)>|'(\w+)')/.exec(rest))) {
      this.p += m[0].length;
      this.capture(`(?<${m[1] ?? m[2]}>`, frame);
      return;
    }
    if ((m = /^\(\?P=(\w+)\)/.exec(rest))) {
      this.p += m[0].length;
      this.atom(() => `\\k<${(m as RegExpExecArray)[1]}>`);
      return;
    }
    if (/^\(\?(?:\||\(|R\)|[+-]?\d+\)|&|P>)/.test(rest)) {
      throw new PerlRegexError('recursion, conditionals and branch reset are not supported');
    }
    if ((m = /^\(\?(?::|=|!|<=|<!)/.exec(rest))) {
      this.p += m[0].length;
      this.out += m[0];
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
    if ((m = /^\(\?(\^?)([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest))) {
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

/**
 * Splits a rule's match operator (`/re/i`, `m{re}s`, `m!re!`) into pattern and modifiers.
 * Throws {@link PerlRegexError} when it is not one.
 */
export function splitPerlMatch(text: string): { pattern: string; modifiers: string } {
  const t = text.trim();
  let open: string;
  let body: string;
  if (t.startsWith('/')) {
    open = '/';
    body = t.slice(1);
  } else if (t.startsWith('m') && t.length > 1 && !/[\w\s]/.test(t[1] as string)) {
    open = t[1] as string;
    body = t.slice(2);
  } else {
    throw new PerlRegexError(`not a match operator: ${t.slice(0, 20)}`);
  }
  const pairs: Record<string, string> = { '{': '}', '(': ')', '[': ']', '<': '>' };
  const close = pairs[open] ?? open;
  let depth = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (close !== open && c === open) depth++;
    else if (c === close) {
      if (depth === 0) {
        const modifiers = body.slice(i + 1).trim();
        if (!/^[a-z]*$/.test(modifiers)) throw new PerlRegexError(`text after the pattern: ${modifiers}`);
        let pattern = body.slice(0, i);
        // An escaped delimiter is the delimiter itself inside the pattern.
        if (!/[\\^$.*+?()[\]{}|]/.test(close)) pattern = pattern.split(`\\${close}`).join(close);
        return { pattern, modifiers };
      }
      depth--;
    }
  }
  throw new PerlRegexError('unterminated pattern');
}
