/**
 * A compiled SpamAssassin rule set and its run over one message. Compiled once; each run
 * builds the message's views lazily, runs header, mimeheader, body, rawbody, full and uri
 * rules and eval functions, then the metas in dependency order. Body rules go over all lines
 * joined once first (a line-anchored twin of each pattern): a rule whose twin finds nothing
 * there cannot hit any line, so most rules cost one scan of the text, not one per line.
 */
import type { SaConfig, SaSkip } from './cf-parser.js';
import { compileRules, type SaCompiledRule, type SaRuleInfo } from './compile.js';
import { SA_EVALS, type SaEvalContext } from './eval.js';
import { gateText } from './literals.js';
import { SaMessage } from './message.js';

/** One rule that hit. */
export interface SaHit {
  readonly name: string;
  readonly score: number;
  readonly description: string | undefined;
  /** Hit count (more than 1 only for `tflags multiple`). */
  readonly count: number;
}

/** What a run found. */
export interface SaResult {
  /** Reported hits (sub-rules `__NAME` left out), in rule order. */
  readonly hits: readonly SaHit[];
  readonly score: number;
  /** Every rule that hit, sub-rules included, with its count. */
  readonly all: ReadonlyMap<string, number>;
}

/** Options of a run. */
export interface SaCheckOptions {
  /** Decoded bytes kept per MIME part (SpamAssassin's `body_part_scan_size`). Default 50,000. */
  readonly maxPartBytes?: number;
  /** Bytes of the raw message `full` rules see. Default 512 KiB. */
  readonly maxFullBytes?: number;
}

/** A literal with the hashes of its 3-byte substrings, computed once. */
interface GatedLiteral {
  readonly text: string;
  readonly grams: Int32Array;
}

const GRAM_BITS = 20;
const GRAM_MASK = (1 << GRAM_BITS) - 1;

function gramHash(a: number, b: number, c: number): number {
  const x = ((a & 0xff) << 16) | ((b & 0xff) << 8) | (c & 0xff);
  return (x ^ (x >>> GRAM_BITS)) & GRAM_MASK;
}

function gated(literals: readonly string[] | undefined): readonly GatedLiteral[] | undefined {
  if (!literals) return undefined;
  return literals.map((text) => {
    const grams = new Set<number>();
    for (let i = 0; i + 3 <= text.length; i++)
      grams.add(gramHash(text.charCodeAt(i), text.charCodeAt(i + 1), text.charCodeAt(i + 2)));
    return { text, grams: Int32Array.from(grams) };
  });
}

/**
 * The lower-cased text with a bit per hash of each 3-byte substring in it: a literal one of
 * whose substrings never occurs cannot occur, so most literal checks are a few bit tests and
 * no string search. One bit set, reused from text to text (a check runs synchronously).
 */
class LiteralIndex {
  private readonly bits = new Uint32Array(1 << (GRAM_BITS - 5));
  private lower = '';

  reset(lower: string): this {
    this.lower = lower;
    const bits = this.bits;
    bits.fill(0);
    for (let i = 0; i + 3 <= lower.length; i++) {
      const h = gramHash(lower.charCodeAt(i), lower.charCodeAt(i + 1), lower.charCodeAt(i + 2));
      bits[h >>> 5] = (bits[h >>> 5] as number) | (1 << (h & 31));
    }
    return this;
  }

  any(literals: readonly GatedLiteral[]): boolean {
    const bits = this.bits;
    next: for (const l of literals) {
      const g = l.grams;
      for (let i = 0; i < g.length; i++) {
        const h = g[i] as number;
        if (((bits[h >>> 5] as number) & (1 << (h & 31))) === 0) continue next;
      }
      if (this.lower.includes(l.text)) return true;
    }
    return false;
  }
}

function countMatches(re: RegExp, text: string, max: number): number {
  if (!re.global) return re.test(text) ? 1 : 0;
  re.lastIndex = 0;
  let n = 0;
  while (n < max) {
    const m = re.exec(text);
    if (!m) break;
    n++;
    if (m[0] === '') re.lastIndex++;
  }
  re.lastIndex = 0;
  return n;
}

/** A subject long enough for V8 to compile a pattern to machine code on its first run. */
const WARM_SUBJECT = ' x'.repeat(600);

/**
 * Runs a rule's patterns once over a 1,200-character subject. V8 runs a new pattern in its
 * bytecode interpreter and compiles it to machine code only later, but at once when the
 * subject is 1,000 characters or more. Without this, most of the rule patterns, each run a
 * few times per message on short lines and header values, stayed interpreted, and a message
 * cost about 1.7 times the CPU (`node --cpu-prof` on the SpamAssassin corpus). It touches only
 * our own patterns: nothing of V8's process-wide settings changes. A rule set warms a rule
 * the first time the rule runs (past the literal prefilter), not when it is built: compiling
 * every pattern to machine code up front was most of the build's cost, and many patterns
 * never run.
 */
function warmUp(...patterns: (RegExp | undefined)[]): void {
  for (const re of patterns) {
    if (!re) continue;
    re.lastIndex = 0;
    re.test(WARM_SUBJECT);
    re.lastIndex = 0;
  }
}

/** A rule as a run uses it: its slot in the counts array and its literals' hashes. */
interface Runnable {
  readonly rule: SaCompiledRule;
  readonly slot: number;
  readonly gates: readonly GatedLiteral[] | undefined;
}

/** A meta rule bound to the counts array. */
interface BoundMeta {
  readonly slot: number;
  readonly evaluate: (counts: ArrayLike<number>) => number;
}

/** A compiled rule set. */
export class SaRuleSet {
  readonly rules: readonly SaCompiledRule[];
  readonly skipped: readonly SaSkip[];
  private readonly lists: ReadonlyMap<string, readonly string[]>;
  private readonly byType: Readonly<Record<string, readonly Runnable[]>>;
  private readonly metas: readonly BoundMeta[];
  private readonly literalIndex = new LiteralIndex();
  /** For each rule, which of its patterns have been warmed (see `warmUp`): 1 `re`, 2 `scan`. */
  private readonly warmed: Uint8Array;

  constructor(config: SaConfig) {
    const { rules, skipped } = compileRules(config);
    this.rules = rules;
    this.skipped = skipped;
    this.lists = config.lists;
    const slots = new Map(rules.map((r, i) => [r.name, i]));
    const byType: Record<string, Runnable[]> = {};
    rules.forEach((rule, slot) => {
      const m = rule.matcher;
      const key = m.kind === 'meta' ? 'meta' : m.kind === 'eval' ? 'eval' : rule.type;
      const list = byType[key] ?? [];
      list.push({ rule, slot, gates: m.kind === 'regex' ? gated(m.literals) : undefined });
      byType[key] = list;
    });
    this.byType = byType;
    const slot = (name: string) => slots.get(name) ?? -1;
    this.metas = orderMetas(rules.filter((r) => r.matcher.kind === 'meta')).map((r) => ({
      slot: slot(r.name),
      evaluate: r.matcher.kind === 'meta' ? r.matcher.expr.bind(slot) : () => 0,
    }));
    this.warmed = new Uint8Array(rules.length);
  }

  /** Warms a rule's pattern (1: `re`, 2: its line-anchored twin `scan`) the first time it runs. */
  private ready(x: Runnable, which: 1 | 2 = 1): void {
    const done = this.warmed[x.slot] as number;
    if (done & which) return;
    this.warmed[x.slot] = done | which;
    const m = x.rule.matcher;
    if (m.kind === 'regex') warmUp(which === 1 ? m.re : m.scan);
  }

  /** The loaded rules as `mef rules` lists them. */
  info(): SaRuleInfo[] {
    return this.rules.map(({ name, type, file, line, score, description, tflags, priority }) => ({
      name,
      type,
      file,
      line,
      score,
      description,
      tflags,
      priority,
    }));
  }

  /** Runs every rule on one message (raw bytes, or a message already parsed). */
  check(input: Buffer | string | SaMessage, options: SaCheckOptions = {}): SaResult {
    const msg = input instanceof SaMessage ? input : new SaMessage(input, options.maxPartBytes ?? 50_000);
    // Each rule's hit count, by its index in `rules`.
    const counts = new Float64Array(this.rules.length);
    const add = (x: Runnable, n: number) => {
      if (n > 0) counts[x.slot] = Math.min(n, x.rule.maxHits);
    };
    const ctx: SaEvalContext = { message: msg, lists: this.lists };
    const byt = this.byType;
    for (const x of byt.header ?? []) add(x, this.header(x, msg));
    for (const x of byt.mimeheader ?? []) add(x, this.mimeheader(x, msg));
    if (byt.body) this.lines(byt.body, msg.bodyLines(), add);
    if (byt.rawbody) this.lines(byt.rawbody, msg.rawbodyLines(), add);
    if (byt.full) {
      const full = msg.pristine.slice(0, options.maxFullBytes ?? 512 * 1024);
      const lower = gateText(full);
      for (const x of byt.full) {
        const m = x.rule.matcher;
        if (m.kind !== 'regex' || (m.literals && !m.literals.some((l) => lower.includes(l)))) continue;
        this.ready(x);
        add(x, countMatches(m.re, full, x.rule.maxHits));
      }
    }
    if (byt.uri) {
      const uris = msg.uris();
      for (const x of byt.uri) {
        const m = x.rule.matcher;
        if (m.kind !== 'regex' || uris.length === 0) continue;
        this.ready(x);
        let n = 0;
        for (const u of uris) {
          n += countMatches(m.re, u, x.rule.maxHits - n);
          if (n >= x.rule.maxHits) break;
        }
        add(x, n);
      }
    }
    for (const x of byt.eval ?? []) {
      const m = x.rule.matcher;
      if (m.kind !== 'eval') continue;
      const fn = SA_EVALS[m.call.name];
      if (!fn) continue;
      try {
        add(x, fn(ctx, m.call.args) ? 1 : 0);
      } catch {
        // A function that trips on odd content is a miss, as in SpamAssassin.
      }
    }
    for (const meta of this.metas) if (meta.evaluate(counts)) counts[meta.slot] = 1;
    const out: SaHit[] = [];
    const all = new Map<string, number>();
    let score = 0;
    this.rules.forEach((r, i) => {
      const n = counts[i] as number;
      if (!n) return;
      all.set(r.name, n);
      if (r.sub) return;
      out.push({ name: r.name, score: r.score, description: r.description, count: n });
      score += r.score;
    });
    return { hits: out, score: Math.round(score * 1000) / 1000, all };
  }

  private header(x: Runnable, msg: SaMessage): number {
    const r = x.rule;
    const m = r.matcher;
    const value = msg.headerString(r.header as string);
    if (m.kind === 'exists') return (value !== undefined) !== m.negate ? 1 : 0;
    if (m.kind !== 'regex') return 0;
    this.ready(x);
    const text = value ?? r.unset ?? '';
    if (m.negate) return m.re.test(text) ? 0 : 1;
    return countMatches(m.re, text, r.maxHits);
  }

  private mimeheader(x: Runnable, msg: SaMessage): number {
    const r = x.rule;
    const m = r.matcher;
    if (m.kind !== 'regex') return 0;
    this.ready(x);
    const [name, ...mods] = (r.header as string).split(':');
    const request = [name, ...mods.filter((x) => x === 'raw')].join(':');
    for (const p of msg.mime.parts) {
      const vals = msg.get(request, p.headers);
      for (const v of vals) if (m.re.test(v.replace(/\n$/, ''))) return 1;
    }
    return 0;
  }

  private lines(rules: readonly Runnable[], lines: readonly string[], add: (x: Runnable, n: number) => void) {
    const joined = lines.join('');
    const index = this.literalIndex.reset(gateText(joined));
    // Where each line starts in the joined text, to find the line a twin's match is on.
    const starts: number[] = [];
    let at = 0;
    for (const line of lines) {
      starts.push(at);
      at += line.length;
    }
    const lineAt = (pos: number): number => {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((starts[mid] as number) <= pos) lo = mid;
        else hi = mid - 1;
      }
      return lo;
    };
    for (const x of rules) {
      const r = x.rule;
      const m = r.matcher;
      if (m.kind !== 'regex') continue;
      if (x.gates && !index.any(x.gates)) continue;
      if (m.scan) {
        // The twin first: when it finds nothing (most rules, most messages), the rule's own
        // pattern never runs, and is not warmed.
        this.ready(x, 2);
        const found = m.scan.exec(joined);
        if (!found) continue;
        this.ready(x);
        // Most rules hit once: the line the twin found usually is the hit.
        if (!r.multiple && m.re.test(lines[lineAt(found.index)] as string)) {
          add(x, 1);
          continue;
        }
      } else this.ready(x);
      let n = 0;
      for (let i = 0; i < lines.length; i++) {
        n += countMatches(m.re, lines[i] as string, r.maxHits - n);
        if (n >= r.maxHits || (!r.multiple && n > 0)) break;
      }
      add(x, n);
    }
  }
}

/** Metas ordered so each comes after the metas it names. */
function orderMetas(metas: readonly SaCompiledRule[]): SaCompiledRule[] {
  const byName = new Map(metas.map((m) => [m.name, m]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: SaCompiledRule[] = [];
  const visit = (m: SaCompiledRule) => {
    if (done.has(m.name) || visiting.has(m.name)) return;
    visiting.add(m.name);
    if (m.matcher.kind === 'meta') {
      for (const dep of m.matcher.expr.names) {
        const d = byName.get(dep);
        if (d) visit(d);
      }
    }
    visiting.delete(m.name);
    done.add(m.name);
    out.push(m);
  };
  for (const m of metas) visit(m);
  return out;
}
