import { isIPv4 } from 'node:net';
import { invalidOption } from '@mef/core';

/**
 * One return-code rule of a list: which answers it matches and what a match means.
 * Give exactly one of `code` (an exact address such as `127.0.0.2`, or a CIDR such as
 * `127.0.0.4/30`), `mask` (a bitmask tested against the last octet, SURBL style) or
 * `octet` (the exact last octet, DNSWL style).
 */
export interface ReturnCodeRule {
  /** Exact answer (`127.0.0.2`) or CIDR of answers (`127.0.0.4/30`). */
  readonly code?: string;
  /** Bitmask on the last octet of the answer (`8` matches `127.0.0.8`, `127.0.0.10`...). */
  readonly mask?: number;
  /** Exact last octet, whatever the others (DNSWL trust levels: `127.0.X.3`). */
  readonly octet?: number;
  /** Symbol recorded on a match, UPPER_SNAKE such as `RBL_ZEN_SBL`. */
  readonly symbol: string;
  /** Score the symbol adds (negative for allowlists). */
  readonly score: number;
  /** Human description, kept in the symbol. */
  readonly description?: string;
  /**
   * Whether a match may reject, when the list rejects (default true). Lets a list reject
   * on some codes (Spamhaus SBL, XBL) and only score on others (PBL).
   */
  readonly reject?: boolean;
}

/** The Spamhaus error answers: typo in the zone name, public or open resolver, too many queries. */
export const spamhausErrorCodes: readonly string[] = Object.freeze([
  '127.255.255.252',
  '127.255.255.254',
  '127.255.255.255',
]);

/** What a set of A answers means for one list. */
export interface AnswerMeaning {
  /** The rules that matched, once each, in rule order, with the answer that matched first. */
  readonly hits: readonly { readonly rule: ReturnCodeRule; readonly answer: string }[];
  /** Answers that are errors: an error code, or an address outside 127.0.0.0/8. */
  readonly errors: readonly string[];
  /** Listed answers that no rule matched and no default covered. */
  readonly unmatched: readonly string[];
}

interface CompiledRule {
  readonly rule: ReturnCodeRule;
  readonly test: (value: number) => boolean;
}

function ipv4ToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  return (((p[0] ?? 0) << 24) | ((p[1] ?? 0) << 16) | ((p[2] ?? 0) << 8) | (p[3] ?? 0)) >>> 0;
}

/** Compiles `127.0.0.2` or `127.0.0.4/30` into a matcher; throws a TypeError on bad input. */
function compileCode(code: string, option: string): (value: number) => boolean {
  const [addr = '', bitsText] = code.split('/');
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!isIPv4(addr) || !Number.isInteger(bits) || bits < 0 || bits > 32) {
    throw invalidOption(option, code, 'an IPv4 address such as "127.0.0.2" or a CIDR such as "127.0.0.4/30"');
  }
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const base = (ipv4ToInt(addr) & mask) >>> 0;
  return (value) => (value & mask) >>> 0 === base;
}

/** Answers outside 127.0.0.0/8 are never listings (a hijacking resolver or a wildcard). */
const in127 = compileCode('127.0.0.0/8', 'internal');

/**
 * The compiled return-code map of one list. `defaultRule` covers every listed answer in
 * 127.0.0.0/8 that no rule matched (the generic zone); without it such answers are
 * reported as `unmatched` and ignored.
 */
export class ReturnCodeMap {
  readonly #rules: readonly CompiledRule[];
  readonly #errors: readonly ((value: number) => boolean)[];
  readonly #default: ReturnCodeRule | undefined;

  constructor(
    rules: readonly ReturnCodeRule[],
    options: { errorCodes?: readonly string[]; defaultRule?: ReturnCodeRule; option?: string } = {},
  ) {
    const opt = options.option ?? 'returnCodes';
    this.#rules = rules.map((rule, i) => {
      if (!rule || typeof rule !== 'object')
        throw invalidOption(`${opt}[${i}]`, rule, 'a return-code rule object');
      checkSymbol(rule.symbol, `${opt}[${i}].symbol`);
      if (typeof rule.score !== 'number' || !Number.isFinite(rule.score)) {
        throw invalidOption(`${opt}[${i}].score`, rule.score, 'a finite number');
      }
      const kinds = [rule.code, rule.mask, rule.octet].filter((k) => k !== undefined).length;
      if (kinds !== 1) throw invalidOption(`${opt}[${i}]`, rule, 'exactly one of code, mask or octet');
      if (rule.octet !== undefined) {
        const o = rule.octet;
        if (!Number.isInteger(o) || o < 0 || o > 255) {
          throw invalidOption(`${opt}[${i}].octet`, o, 'an integer from 0 to 255');
        }
        return { rule, test: (v: number) => (v & 0xff) === o };
      }
      if (rule.mask !== undefined) {
        const m = rule.mask;
        if (!Number.isInteger(m) || m <= 0 || m > 255) {
          throw invalidOption(`${opt}[${i}].mask`, m, 'an integer from 1 to 255');
        }
        return { rule, test: (v: number) => (v & 0xff & m) !== 0 };
      }
      return { rule, test: compileCode(String(rule.code), `${opt}[${i}].code`) };
    });
    this.#errors = (options.errorCodes ?? spamhausErrorCodes).map((c, i) =>
      compileCode(c, `errorCodes[${i}]`),
    );
    if (options.defaultRule) checkSymbol(options.defaultRule.symbol, 'defaultSymbol');
    this.#default = options.defaultRule;
  }

  /** Interprets the A answers of one query. */
  interpret(answers: readonly string[]): AnswerMeaning {
    const hits: { rule: ReturnCodeRule; answer: string }[] = [];
    const seen = new Set<ReturnCodeRule>();
    const errors: string[] = [];
    const unmatched: string[] = [];
    for (const answer of answers) {
      if (!isIPv4(answer)) {
        errors.push(answer);
        continue;
      }
      const v = ipv4ToInt(answer);
      if (!in127(v) || this.#errors.some((t) => t(v))) {
        errors.push(answer);
        continue;
      }
      let matched = false;
      for (const c of this.#rules) {
        if (!c.test(v)) continue;
        matched = true;
        if (!seen.has(c.rule)) {
          seen.add(c.rule);
          hits.push({ rule: c.rule, answer });
        }
      }
      if (!matched) {
        if (this.#default) {
          if (!seen.has(this.#default)) {
            seen.add(this.#default);
            hits.push({ rule: this.#default, answer });
          }
        } else unmatched.push(answer);
      }
    }
    // An error answer makes the whole answer an error: never a listing.
    return errors.length ? { hits: [], errors, unmatched } : { hits, errors, unmatched };
  }
}

/** Throws unless `name` is an UPPER_SNAKE symbol name. */
export function checkSymbol(name: unknown, option: string): void {
  if (typeof name !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(name)) {
    throw invalidOption(option, name, 'an UPPER_SNAKE symbol name such as "RBL_ZEN_SBL"');
  }
}
