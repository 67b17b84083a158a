/**
 * Structured header values (`type/sub; a=b`) read under a {@link ReadPolicy}: which of two
 * parameters counts, whether comments, quotes and RFC 2231 continuations are honoured, and
 * Thunderbird's own parameter scan.
 */

/** How one reading resolves the points where readers disagree. */
export interface ReadPolicy {
  /** The reading's name, the prefix of its part ids. */
  readonly name: string;
  /** Which of two Content-Type / Content-Disposition / Content-Transfer-Encoding fields counts. */
  readonly field: 'first' | 'last';
  /** Which of two parameters of the same name counts. */
  readonly param: 'first' | 'last';
  /** Drop `(comments)` from structured values. */
  readonly comments: boolean;
  /** Join RFC 2231 continuations (`boundary*0=`, `boundary*1=`). */
  readonly rfc2231: boolean;
  /** Honour quotes (a `;` inside quotes is data); false splits at every `;`. */
  readonly quotes: boolean;
  /** Accept blanks between a field name and its colon (`Content-Type :`). */
  readonly looseNames: boolean;
  /** Where the file name comes from first. */
  readonly filename: 'disposition' | 'type';
  /** Decode as base64 a leaf whose transfer encoding is missing or another, when its body is base64. */
  readonly sniffBase64: boolean;
  /**
   * Thunderbird's parameter scan (`nsMIMEHeaderParamImpl.cpp`, `DoParameterInternal`): a `,`
   * may stand for the first `;`, an unquoted value ends at a blank, the scan stops at a value
   * not followed by `;`, and an RFC 2231 value wins over a plain one. Unset: split at `;`.
   */
  readonly paramScan?: 'thunderbird';
}

export function pick<T>(list: readonly T[], which: 'first' | 'last'): T | undefined {
  return which === 'first' ? list[0] : list[list.length - 1];
}

export function stripComments(v: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < v.length; i++) {
    const c = v[i] as string;
    if (c === '\\' && i + 1 < v.length) {
      if (depth === 0) out += c + v[i + 1];
      i++;
      continue;
    }
    if (c === '"' && depth === 0) quoted = !quoted;
    if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')' && depth > 0) depth--;
    else if (depth === 0) out += c;
  }
  return out;
}

function splitParams(v: string, quotes: boolean): string[] {
  if (!quotes) return v.split(';');
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < v.length; i++) {
    const c = v[i] as string;
    if (c === '\\' && quoted && i + 1 < v.length) {
      cur += c + v[i + 1];
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function unquote(v: string, quotes: boolean): string {
  const t = v.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) {
    const inner = t.slice(1, -1);
    return quotes ? inner.replace(/\\(.)/g, '$1') : inner;
  }
  return t;
}

/** The value and `[name, value]` pairs of a structured value, split at every `;` (quotes as the policy says). */
function splitPairs(v: string, quotes: boolean): { first: string; pairs: [string, string][] } {
  const [first = '', ...rest] = splitParams(v, quotes);
  const pairs: [string, string][] = [];
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq <= 0) continue;
    pairs.push([p.slice(0, eq).trim().toLowerCase(), unquote(p.slice(eq + 1), quotes)]);
  }
  return { first, pairs };
}

/** The value and pairs as Thunderbird scans them (see {@link ReadPolicy.paramScan}). */
function scanPairs(v: string): { first: string; pairs: [string, string][] } {
  const end = v.search(/[;,]/);
  const first = end === -1 ? v : v.slice(0, end);
  const pairs: [string, string][] = [];
  let i = end === -1 ? v.length : end + 1;
  const blank = () => {
    while (i < v.length && /\s/.test(v[i] as string)) i++;
  };
  while (i < v.length) {
    blank();
    const eq = v.indexOf('=', i);
    if (eq === -1) break;
    const key = v.slice(i, eq).trim().toLowerCase();
    if (!key || /[\s;"]/.test(key)) break;
    i = eq + 1;
    blank();
    let val = '';
    if (v[i] === '"') {
      for (i++; i < v.length && v[i] !== '"'; i++) {
        if (v[i] === '\\' && i + 1 < v.length) i++;
        val += v[i];
      }
      i++;
    } else {
      while (i < v.length && !/[\s;]/.test(v[i] as string)) val += v[i++];
    }
    pairs.push([key, val]);
    blank();
    if (v[i] !== ';') break;
    i++;
  }
  return { first, pairs };
}

/** A structured value (`type/sub; a=b`) read under the policy: its value and its parameters. */
export function parseValue(raw: string, policy: ReadPolicy): { value: string; params: Map<string, string> } {
  const v = policy.comments ? stripComments(raw) : raw;
  const thunderbird = policy.paramScan === 'thunderbird';
  const { first, pairs } = thunderbird ? scanPairs(v) : splitPairs(v, policy.quotes);
  const all = new Map<string, string[]>();
  const continued = new Map<string, { n: number; v: string; ext: boolean }[]>();
  for (const [key, val] of pairs) {
    const m = /^([^*]+)\*(\d+)?(\*)?$/.exec(key);
    if (m && policy.rfc2231) {
      const list = continued.get(m[1] as string) ?? [];
      list.push({ n: Number(m[2] ?? 0), v: val, ext: m[3] === '*' || m[2] === undefined });
      continued.set(m[1] as string, list);
      continue;
    }
    const list = all.get(key) ?? [];
    list.push(val);
    all.set(key, list);
  }
  for (const [key, parts] of continued) {
    parts.sort((a, b) => a.n - b.n);
    let joined = parts.map((p) => p.v).join('');
    if (parts[0]?.ext) {
      const m = /^[^']*'[^']*'(.*)$/.exec(joined);
      joined = m ? (m[1] as string) : joined;
      try {
        joined = decodeURIComponent(joined);
      } catch {
        // keep the percent-encoded form
      }
    }
    const list = all.get(key) ?? [];
    if (thunderbird) list.unshift(joined);
    else list.push(joined);
    all.set(key, list);
  }
  const params = new Map<string, string>();
  for (const [k, list] of all) params.set(k, pick(list, policy.param) as string);
  return { value: first.trim().toLowerCase(), params };
}
