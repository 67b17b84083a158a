import { AssertionError } from 'node:assert';
import type { Disposition, Verdict } from '../verdict.js';

/** A readable, multi-line summary of a verdict for failure messages and logs. */
export function formatVerdict(v: Verdict): string {
  const lines = [
    `disposition: ${v.disposition}${v.wouldBe ? ` (monitor: would ${v.wouldBe})` : ''}${v.disconnect ? ' +disconnect' : ''}`,
    `reply: ${v.reply ? `${v.reply.code} ${v.reply.enhanced} ${v.reply.lines.join(' / ')}` : '(default)'}`,
    `score: ${v.score.value} (action ${v.score.action}; reject ${v.score.thresholds.reject}, add header ${v.score.thresholds.addHeader}, greylist ${v.score.thresholds.greylist})`,
    `symbols: ${v.symbols.length ? '' : '(none)'}`,
    ...v.symbols.map(
      (s) => `  ${s.name} ${s.score}${s.options?.length ? ` [${s.options.join(', ')}]` : ''} (${s.stage})`,
    ),
  ];
  if (v.forced.length)
    lines.push(
      'forced:',
      ...v.forced.map((f) => `  ${f.disposition} by ${f.stage}${f.reason ? `: ${f.reason}` : ''}`),
    );
  if (v.errors.length)
    lines.push(
      'errors:',
      ...v.errors.map((e) => `  ${e.stage} ${e.kind} ${e.code}: ${e.message} -> ${e.disposition}`),
    );
  if (v.mutations.length)
    lines.push(
      'mutations:',
      ...v.mutations.map((m) =>
        m.op === 'subject'
          ? `  subject prefix ${m.prefix}`
          : `  ${m.op} ${m.name}${'value' in m ? `: ${m.value}` : ''}`,
      ),
    );
  return lines.join('\n');
}

/** Fluent assertions on a verdict; each failure prints the whole verdict. */
export class VerdictAssertion {
  constructor(readonly verdict: Verdict) {}

  private fail(message: string, expected?: unknown, actual?: unknown): never {
    throw new AssertionError({
      message: `${message}\n\nVerdict:\n${formatVerdict(this.verdict)}`,
      expected,
      actual,
      operator: 'verdict',
    });
  }

  /** The disposition is this one. */
  toBe(d: Disposition): this {
    if (this.verdict.disposition !== d)
      this.fail(`expected disposition ${d}, got ${this.verdict.disposition}`, d, this.verdict.disposition);
    return this;
  }

  toAccept(): this {
    return this.toBe('accept');
  }

  toReject(): this {
    return this.toBe('reject');
  }

  toTempfail(): this {
    return this.toBe('tempfail');
  }

  /** A symbol with this name was recorded (and, if given, with this score). */
  toHaveSymbol(name: string, score?: number): this {
    const hit = this.verdict.symbols.find((s) => s.name === name);
    if (!hit) this.fail(`expected symbol ${name}`);
    if (score !== undefined && Math.abs(hit.score - score) > 1e-9)
      this.fail(`expected symbol ${name} with score ${score}, got ${hit.score}`, score, hit.score);
    return this;
  }

  /** No symbol with this name. */
  notToHaveSymbol(name: string): this {
    if (this.verdict.symbols.some((s) => s.name === name)) this.fail(`expected no symbol ${name}`);
    return this;
  }

  /** A symbol with this name has an option matching. */
  toHaveSymbolOption(name: string, option: string | RegExp): this {
    this.toHaveSymbol(name);
    const ok = this.verdict.symbols.some(
      (s) =>
        s.name === name &&
        (s.options ?? []).some((o) => (typeof option === 'string' ? o === option : option.test(o))),
    );
    if (!ok) this.fail(`expected symbol ${name} with option ${String(option)}`);
    return this;
  }

  /** The score is at least `n`. */
  toScoreAtLeast(n: number): this {
    if (!(this.verdict.score.value >= n))
      this.fail(`expected score >= ${n}, got ${this.verdict.score.value}`);
    return this;
  }

  /** The score is below `n`. */
  toScoreBelow(n: number): this {
    if (!(this.verdict.score.value < n)) this.fail(`expected score < ${n}, got ${this.verdict.score.value}`);
    return this;
  }

  /** The reply has this code (and enhanced code, and text matching). */
  toHaveReply(code: number, enhanced?: string, text?: string | RegExp): this {
    const r = this.verdict.reply;
    if (!r) return this.fail(`expected reply ${code}, got the default reply`);
    if (r.code !== code) this.fail(`expected reply code ${code}, got ${r.code}`, code, r.code);
    if (enhanced !== undefined && r.enhanced !== enhanced)
      this.fail(`expected enhanced code ${enhanced}, got ${r.enhanced}`, enhanced, r.enhanced);
    if (text !== undefined) {
      const all = r.lines.join('\n');
      const ok = typeof text === 'string' ? all.includes(text) : text.test(all);
      if (!ok) this.fail(`expected reply text ${String(text)}, got ${JSON.stringify(all)}`);
    }
    return this;
  }

  /** A header mutation adds or sets this header (value containing `value`). */
  toAddHeader(name: string, value?: string | RegExp): this {
    const ok = this.verdict.mutations.some(
      (m) =>
        (m.op === 'add' || m.op === 'set' || m.op === 'prepend') &&
        m.name.toLowerCase() === name.toLowerCase() &&
        (value === undefined || (typeof value === 'string' ? m.value.includes(value) : value.test(m.value))),
    );
    if (!ok)
      this.fail(`expected header ${name}${value !== undefined ? ` with ${String(value)}` : ''} to be added`);
    return this;
  }

  /** An error with this code was recorded. */
  toHaveError(code: string): this {
    if (!this.verdict.errors.some((e) => e.code === code)) this.fail(`expected error ${code}`);
    return this;
  }

  /** No error was recorded. */
  toHaveNoErrors(): this {
    if (this.verdict.errors.length) this.fail('expected no errors');
    return this;
  }
}

/** Starts an assertion on a verdict. */
export function expectVerdict(v: Verdict): VerdictAssertion {
  return new VerdictAssertion(v);
}
