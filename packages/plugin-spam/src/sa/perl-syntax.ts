/**
 * The pieces of Perl pattern syntax the translator shares: the error it throws, escapes that
 * stand for one byte, POSIX and whitespace classes, bracket classes (with case spelled out
 * when needed), and splitting a rule's `/.../flags` or `m{...}flags` operator.
 */

/** A pattern the translator cannot express in JavaScript; `reason` says which construct. */
export class PerlRegexError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'PerlRegexError';
  }
}

export const POSIX: Readonly<Record<string, string>> = {
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

export const SPACE_CLASS = '\\t-\\r ';
export const HSPACE_CLASS = '\\t \\xa0';
export const VSPACE_CLASS = '\\n\\x0b\\f\\r\\x85';

export function hex2(code: number): string {
  if (code > 0xffff) throw new PerlRegexError(`code point U+${code.toString(16)} above the byte range`);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

export function escapeLiteral(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : hex2IfControl(ch);
}

function hex2IfControl(ch: string): string {
  const c = ch.charCodeAt(0);
  return c < 0x20 || c === 0x7f || c > 0xff ? hex2(c) : ch;
}

export function isLetter(ch: string): boolean {
  return /^[A-Za-z]$/.test(ch);
}

export function swapCase(ch: string): string {
  return ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase();
}

/** A literal character as a JS atom, spelled out in both cases when `caseless`. */
export function literalAtom(ch: string, caseless: boolean): string {
  if (caseless && isLetter(ch)) return `[${ch}${swapCase(ch)}]`;
  return escapeLiteral(ch);
}

/** Reads a `\x..`, `\0..`, `\o{..}`, `\N{U+..}` escape at `p` (just after the backslash). */
export function readCodeEscape(src: string, p: number): { code: number; end: number } | undefined {
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

export const UNSUPPORTED_ESCAPES: Readonly<Record<string, string>> = {
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
export function caselessRange(lo: number, hi: number): string {
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

export function translateClass(src: string, start: number, caseless: boolean): { text: string; end: number } {
  // The other case of letters goes at the end, so it never becomes the start of a range.
  let other = '';
  const st = { p: start + 1 };
  let negate = false;
  if (src[st.p] === '^') {
    negate = true;
    st.p++;
  }
  let body = '';
  let first = true;
  let prevCode: number | undefined;
  while (st.p < src.length) {
    const ch = src[st.p] as string;
    if (ch === ']' && !first) break;
    first = false;
    if (ch === '[' && src[st.p + 1] === ':') {
      const m = /^\[:(\^?)(\w+):\]/.exec(src.slice(st.p));
      if (m) {
        const set = POSIX[m[2] as string];
        if (!set) throw new PerlRegexError(`unknown POSIX class [:${m[2]}:]`);
        if (m[1] === '^') throw new PerlRegexError(`negated POSIX class [:^${m[2]}:] inside a class`);
        body += set;
        st.p += m[0].length;
        prevCode = undefined;
        continue;
      }
    }
    if (ch === '-' && prevCode !== undefined && src[st.p + 1] !== ']' && src[st.p + 1] !== undefined) {
      st.p++;
      const hi = classChar(src, st);
      if (hi === undefined) throw new PerlRegexError('range to a class escape inside [...]');
      if (hi < prevCode) throw new PerlRegexError('invalid range in [...]');
      body += `-${hex2(hi)}`;
      if (caseless) other += caselessRange(prevCode, hi);
      prevCode = undefined;
      continue;
    }
    const save = st.p;
    const code = classChar(src, st);
    if (code === undefined) {
      body += classEscape(src, st, save);
      prevCode = undefined;
      continue;
    }
    body += hex2(code);
    const ch2 = String.fromCharCode(code);
    if (caseless && isLetter(ch2)) other += hex2(swapCase(ch2).charCodeAt(0));
    prevCode = code;
  }
  if (src[st.p] !== ']') throw new PerlRegexError('unterminated character class');
  st.p++;
  body += other;
  if (body === '') return { text: negate ? '[\\s\\S]' : '(?!)', end: st.p };
  return { text: `[${negate ? '^' : ''}${body}]`, end: st.p };
}

/** One literal char of a class as its code, or undefined for a class escape like `\s`. */
function classChar(src: string, st: { p: number }): number | undefined {
  const ch = src[st.p] as string;
  if (ch !== '\\') {
    st.p++;
    return ch.charCodeAt(0);
  }
  const c = src[st.p + 1];
  if (c === undefined) throw new PerlRegexError('trailing backslash');
  const code = readCodeEscape(src, st.p + 1);
  if (code) {
    st.p = code.end;
    return code.code;
  }
  if (c === 'b') {
    st.p += 2;
    return 8;
  }
  const octal = /^[1-7][0-7]{0,2}/.exec(src.slice(st.p + 1));
  if (octal) {
    st.p += 1 + octal[0].length;
    return Number.parseInt(octal[0], 8);
  }
  if (c === 'c') {
    const ctl = src[st.p + 2] ?? '@';
    st.p += 3;
    return ctl.toUpperCase().charCodeAt(0) ^ 0x40;
  }
  if (/[sSdDwWhHvVpPN]/.test(c)) return undefined;
  st.p += 2;
  return c.charCodeAt(0);
}

function classEscape(src: string, st: { p: number }, at: number): string {
  const c = src[at + 1] as string;
  st.p = at + 2;
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

/**
 * Escapes that translate to a fixed piece of JavaScript: an `assertion` (no atom, so nothing
 * to quantify) or an `atom`. Perl's `\s`, `\h` and `\v` are spelled out as byte classes.
 */
export const SIMPLE_ESCAPES: Readonly<Record<string, { assertion?: string; atom?: string }>> = {
  z: { assertion: '(?![\\s\\S])' },
  Z: { assertion: '(?=\\n?(?![\\s\\S]))' },
  A: { assertion: '(?<![\\s\\S])' },
  b: { assertion: '\\b' },
  B: { assertion: '\\B' },
  s: { atom: `[${SPACE_CLASS}]` },
  S: { atom: `[^${SPACE_CLASS}]` },
  h: { atom: `[${HSPACE_CLASS}]` },
  H: { atom: `[^${HSPACE_CLASS}]` },
  v: { atom: `[${VSPACE_CLASS}]` },
  V: { atom: `[^${VSPACE_CLASS}]` },
  R: { atom: `(?:\\r\\n|[${VSPACE_CLASS}])` },
  d: { atom: '\\d' },
  D: { atom: '\\D' },
  w: { atom: '\\w' },
  W: { atom: '\\W' },
};
