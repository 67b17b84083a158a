/**
 * Required literals of a Perl pattern: a set of lower-case strings such that any text the
 * pattern matches contains at least one of them, once lower-cased with every whitespace
 * byte turned into a space (see {@link gateText}). Used as a prefilter: a rule
 * whose literals are all absent from the lower-cased text is not run at all, which is how
 * SpamAssassin's own body-rule extractor keeps hundreds of rules cheap. Undefined when no
 * useful literal (3 bytes or more on every branch) is certain. Sound by construction: every
 * construct it does not understand contributes nothing.
 */

const MIN_LITERAL = 3;

interface Info {
  /** Alternatives, any of which occurs in every match; undefined when none is known. */
  readonly req: readonly string[] | undefined;
}

function better(
  a: readonly string[] | undefined,
  b: readonly string[] | undefined,
): readonly string[] | undefined {
  if (!a) return b;
  if (!b) return a;
  const score = (x: readonly string[]) => Math.min(...x.map((s) => s.length)) - x.length * 0.1;
  return score(b) > score(a) ? b : a;
}

class Analyzer {
  private p = 0;
  constructor(private readonly src: string) {}

  parse(): Info {
    const info = this.alternation();
    if (this.p !== this.src.length) return { req: undefined };
    return info;
  }

  private alternation(): Info {
    const branches: Info[] = [this.sequence()];
    while (this.src[this.p] === '|') {
      this.p++;
      branches.push(this.sequence());
    }
    if (branches.length === 1) return branches[0] as Info;
    const all: string[] = [];
    for (const b of branches) {
      if (!b.req) return { req: undefined };
      all.push(...b.req);
    }
    return { req: all.length > 400 ? undefined : [...new Set(all)] };
  }

  private sequence(): Info {
    let best: readonly string[] | undefined;
    let run = '';
    const flush = () => {
      if (run.length >= MIN_LITERAL) best = better(best, [run]);
      run = '';
    };
    const { src } = this;
    while (this.p < src.length && src[this.p] !== '|' && src[this.p] !== ')') {
      const start = this.p;
      const atom = this.atom();
      const q = this.quantifier();
      if (atom.kind === 'char' && (q === undefined || q.min >= 1)) {
        if (q === undefined) {
          run += atom.ch;
          continue;
        }
        // `ab+` still requires "ab"; what follows is not contiguous.
        run += atom.ch;
        flush();
        continue;
      }
      flush();
      if (atom.kind === 'group' && (q === undefined || q.min >= 1)) best = better(best, atom.info.req);
      if (start === this.p) return { req: best };
    }
    flush();
    return { req: best };
  }

  private quantifier(): { min: number } | undefined {
    const { src } = this;
    const c = src[this.p];
    let min: number;
    if (c === '*' || c === '?') {
      min = 0;
      this.p++;
    } else if (c === '+') {
      min = 1;
      this.p++;
    } else if (c === '{') {
      const m = /^\{(\d*)(?:,(\d*))?\}/.exec(src.slice(this.p));
      if (!m || (m[1] === '' && m[2] === undefined)) return undefined;
      min = m[1] === '' ? 0 : Number(m[1]);
      this.p += m[0].length;
    } else return undefined;
    if (src[this.p] === '?' || src[this.p] === '+') this.p++;
    return { min };
  }

  private atom(): { kind: 'char'; ch: string } | { kind: 'group'; info: Info } | { kind: 'other' } {
    const { src } = this;
    const c = src[this.p] as string;
    if (c === '(') {
      const m = /^\((\?(?:[:>|]|[imsx^-]*:|P?<\w+>|'\w+'))?/.exec(src.slice(this.p)) as RegExpExecArray;
      const look = /^\(\?(?:<?[=!]|#)/.test(src.slice(this.p, this.p + 4));
      if (look || (m[0] === '(?' && !m[1])) {
        this.skipGroup();
        return { kind: 'other' };
      }
      if (/^\(\?[a-z^-]*\)/.test(src.slice(this.p))) {
        this.skipGroup();
        return { kind: 'other' };
      }
      this.p += m[0].length;
      if (m[1] === '?|') {
        this.skipRest();
        return { kind: 'other' };
      }
      const info = this.alternation();
      if (src[this.p] !== ')') return { kind: 'other' };
      this.p++;
      return { kind: 'group', info };
    }
    if (c === '[') {
      this.skipClass();
      return { kind: 'other' };
    }
    if (c === '\\') {
      const n = src[this.p + 1] ?? '';
      this.p += 2;
      if (n === 'x') {
        const m = /^(?:\{([0-9A-Fa-f]+)\}|([0-9A-Fa-f]{1,2}))/.exec(src.slice(this.p));
        if (m) {
          this.p += m[0].length;
          const code = Number.parseInt((m[1] ?? m[2]) as string, 16);
          return code <= 0xff
            ? { kind: 'char', ch: String.fromCharCode(code).toLowerCase() }
            : { kind: 'other' };
        }
        return { kind: 'other' };
      }
      // The gate text has every whitespace byte turned into a space, so \s is a space there.
      if (n === 's') return { kind: 'char', ch: ' ' };
      if (/[A-Za-z0-9]/.test(n)) {
        if (n === 'Q') {
          const end = src.indexOf('\\E', this.p);
          this.p = end === -1 ? src.length : end + 2;
        }
        if (n === 'k' || n === 'g' || n === 'p' || n === 'P' || n === 'N' || n === 'o') {
          const m = /^(?:\{[^}]*\}|<\w+>|'\w+'|-?\d+|[A-Za-z])/.exec(src.slice(this.p));
          if (m) this.p += m[0].length;
        }
        if (n === 'c') this.p++;
        if (n === '0') this.p += (/^[0-7]{0,2}/.exec(src.slice(this.p)) as RegExpExecArray)[0].length;
        return { kind: 'other' };
      }
      return { kind: 'char', ch: n.toLowerCase() };
    }
    if (c === '.' || c === '^' || c === '$') {
      this.p++;
      return { kind: 'other' };
    }
    if (/[*+?{]/.test(c)) {
      this.p++;
      return { kind: 'other' };
    }
    this.p++;
    return { kind: 'char', ch: /[\t-\r]/.test(c) ? ' ' : c.toLowerCase() };
  }

  private skipClass(): void {
    const { src } = this;
    this.p++;
    if (src[this.p] === '^') this.p++;
    if (src[this.p] === ']') this.p++;
    while (this.p < src.length && src[this.p] !== ']') {
      if (src[this.p] === '\\') this.p++;
      else if (src.startsWith('[:', this.p)) {
        const end = src.indexOf(':]', this.p + 2);
        if (end !== -1) this.p = end + 1;
      }
      this.p++;
    }
    this.p++;
  }

  private skipGroup(): void {
    const { src } = this;
    let depth = 0;
    while (this.p < src.length) {
      const c = src[this.p];
      if (c === '\\') this.p++;
      else if (c === '[') {
        this.skipClass();
        continue;
      } else if (c === '(') depth++;
      else if (c === ')') {
        depth--;
        if (depth === 0) {
          this.p++;
          return;
        }
      }
      this.p++;
    }
  }

  private skipRest(): void {
    this.p = this.src.length;
  }
}

/**
 * Lower-case literals one of which every match contains, or undefined. `modifiers` with `x`
 * gives undefined (free spacing is not analysed).
 */
export function requiredLiterals(pattern: string, modifiers: string): readonly string[] | undefined {
  if (modifiers.includes('x') || /\(\?[a-z^]*x/.test(pattern)) return undefined;
  try {
    const req = new Analyzer(pattern).parse().req;
    return req?.every((s) => s.length >= MIN_LITERAL) ? req : undefined;
  } catch {
    return undefined;
  }
}

/** The text literals are looked for in: lower-cased, each whitespace byte a space. */
export function gateText(text: string): string {
  return text.toLowerCase().replace(/[\t-\r]/g, ' ');
}
