import type { Disposition, Thresholds, Verdict } from '@mef/core';
import { toSmtpReply } from '@mef/core/hosts';

/** One scanned message as `mef scan --json` prints it (one JSON object per line). */
export interface ScanResult {
  /** The path, `path#N` for the N-th message of an mbox (1-based), `-` for standard input. */
  readonly source: string;
  readonly disposition: Disposition;
  /** True when the verdict classes the message as spam (verdict.spam, or score at or above add-header). */
  readonly spam: boolean;
  readonly score: number;
  /** The score action: `no_action`, `greylist`, `add_header` or `reject`. */
  readonly action: string;
  readonly thresholds: Thresholds;
  readonly symbols: readonly { name: string; score: number; options?: readonly string[] }[];
  readonly reply: { code: number; enhanced: string; text: string } | null;
  /** Header fields the verdict would add to the message handed on. */
  readonly headers: readonly { name: string; value: string }[];
  readonly errors: readonly { stage: string; code: string; kind: string; message: string; policy: string }[];
  /** Milliseconds spent on this message. */
  readonly ms: number;
}

/** Turns a verdict into the printed result. */
export function toResult(source: string, v: Verdict, ms: number): ScanResult {
  const t = v.score.thresholds;
  const spam = v.spam || (t.addHeader !== null && v.score.value >= t.addHeader);
  const reply = v.reply ? toSmtpReply(v) : null;
  return {
    source,
    disposition: v.disposition,
    spam,
    score: v.score.value,
    action: v.score.action,
    thresholds: { reject: t.reject, addHeader: t.addHeader, greylist: t.greylist },
    symbols: v.symbols.map((s) => ({
      name: s.name,
      score: s.score,
      ...(s.options?.length ? { options: s.options } : {}),
    })),
    reply: reply ? { code: reply.code, enhanced: reply.enhanced, text: reply.lines.join(' ') } : null,
    headers: v.mutations.flatMap((m) =>
      m.op === 'add' || m.op === 'prepend' ? [{ name: m.name, value: m.value }] : [],
    ),
    errors: v.errors.map((e) => ({
      stage: e.stage,
      code: e.code,
      kind: e.kind,
      message: e.message,
      policy: e.policy,
    })),
    ms: Math.round(ms * 100) / 100,
  };
}

/** A result with no verdict: a configured scanner failed and its policy left the mail waiting. */
export function isUnscanned(r: ScanResult): boolean {
  return r.errors.some((e) => e.policy === 'tempfail');
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** The table: one line per message. A long source is printed whole (it pushes its line right). */
export class TablePrinter {
  private readonly sourceWidth: number;
  constructor(
    private readonly write: (s: string) => void,
    width = 120,
  ) {
    this.sourceWidth = Math.max(20, Math.min(48, width - 60));
  }

  header(): void {
    this.write(
      `${pad('SOURCE', this.sourceWidth)}  ${pad('DISPOSITION', 11)}  ${pad('SCORE', 7)}  SPAM  SYMBOLS\n`,
    );
  }

  row(r: ScanResult): void {
    const symbols = [...r.symbols]
      .filter((s) => s.score !== 0 || /FAIL|ERROR|VIRUS|BANNED/.test(s.name))
      .sort((a, b) => Math.abs(b.score) - Math.abs(a.score))
      .map((s) => `${s.name}(${s.score})`);
    const shown = symbols.slice(0, 4).join(' ') + (symbols.length > 4 ? ` +${symbols.length - 4}` : '');
    const err = r.errors.length ? `  ! ${r.errors.map((e) => `${e.stage}: ${e.code}`).join(', ')}` : '';
    this.write(
      `${`${pad(r.source, this.sourceWidth)}  ${pad(r.disposition, 11)}  ${pad(r.score.toFixed(2), 7)}  ${pad(r.spam ? 'yes' : 'no', 4)}  ${shown}${err}`.trimEnd()}\n`,
    );
  }
}

/** Counts for the summary line. */
export class Summary {
  messages = 0;
  spam = 0;
  unreadable = 0;
  failed = 0;
  readonly byDisposition: Record<Disposition, number> = {
    accept: 0,
    tempfail: 0,
    reject: 0,
    discard: 0,
    quarantine: 0,
  };

  add(r: ScanResult): void {
    this.messages++;
    this.byDisposition[r.disposition]++;
    if (r.spam) this.spam++;
    if (isUnscanned(r)) this.failed++;
  }

  format(ms: number): string {
    const parts = (Object.entries(this.byDisposition) as [Disposition, number][])
      .filter(([, n]) => n > 0)
      .map(([d, n]) => `${n} ${d}`);
    const rate = ms > 0 ? ` (${((this.messages * 1000) / ms).toFixed(1)} messages/s)` : '';
    const lines = [
      `${this.messages} message${this.messages === 1 ? '' : 's'}: ${parts.join(', ') || 'none'}; ${this.spam} spam; ${(ms / 1000).toFixed(2)} s${rate}`,
    ];
    if (this.unreadable)
      lines.push(`${this.unreadable} input${this.unreadable === 1 ? '' : 's'} could not be read`);
    if (this.failed)
      lines.push(`${this.failed} message${this.failed === 1 ? '' : 's'} not scanned: a scanner failed`);
    return `${lines.join('\n')}\n`;
  }
}
